import type { Context } from 'hono';
import { StintError, isStintError } from '../core/errors.js';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** Paths whose errors are OAuth's (RFC 6749 §5.2); everything else answers RFC 9457 problems. */
const OAUTH_PATHS = new Set(['/token', '/bc-authorize', '/introspect', '/revoke']);

export function toStintError(err: unknown): StintError {
  if (isStintError(err)) return err;
  return new StintError('server_error', 'unexpected error; nothing was issued', { cause: err });
}

export function errorResponse(c: Context, err: unknown, log: (msg: string) => void = console.error): Response {
  const e = toStintError(err);
  if (e.code === 'server_error' || e.code === 'temporarily_unavailable') {
    // The cause is ours to read, not the client's; it never contains request secrets.
    log(`${c.req.method} ${new URL(c.req.url).pathname}: ${e.code}: ${describeCause(e.cause)}`);
  }
  const headers: Record<string, string> = { ...NO_STORE };
  // RFC 6749 §5.2: a challenge only answers credentials sent in the Authorization header.
  if (e.status === 401 && (c.req.header('Authorization') || e.code !== 'invalid_client')) {
    headers['WWW-Authenticate'] = authenticateHeader(c, e);
  }
  if (OAUTH_PATHS.has(new URL(c.req.url).pathname)) {
    return c.json({ error: e.code, error_description: e.message, ...e.fields }, e.status as 400, headers);
  }
  const body = {
    type: `urn:stint:problem:${e.code}`,
    title: e.code.replace(/_/g, ' '),
    status: e.status,
    detail: e.message,
    error: e.code,
    ...e.fields,
  };
  return new Response(JSON.stringify(body), { status: e.status, headers: { ...headers, 'Content-Type': 'application/problem+json' } });
}

function authenticateHeader(c: Context, e: StintError): string {
  const auth = c.req.header('Authorization') ?? '';
  const error = e.code === 'invalid_client' ? 'invalid_client' : 'invalid_token';
  const desc = e.message.replace(/["\\]/g, "'");
  if (/^basic /i.test(auth)) return `Basic realm="stint"`;
  if (/^dpop /i.test(auth)) return `DPoP error="${error}", error_description="${desc}", algs="EdDSA ES256"`;
  return `Bearer realm="stint", error="${error}"`;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
