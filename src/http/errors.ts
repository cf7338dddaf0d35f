import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import { StintError, isStintError } from '../core/errors.js';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
/** Seconds a client is told to wait after a 503: long enough for a restarted peer, short enough not to stall work. */
export const RETRY_AFTER_UNAVAILABLE_S = 5;

/**
 * The error form is chosen per route group: a group declared with `oauthGroup()` answers in
 * RFC 6749 §5.2's form; every other route answers RFC 9457 problems. The choice follows the
 * route the request matched, so an app-wide middleware refusing before the handler runs (a body
 * too large, a rate limit) answers in the form of the route that was asked for.
 */
const OAUTH_HANDLERS = new WeakSet<object>();
export function oauthGroup<A extends { routes: { handler: object }[] }>(group: A): A {
  for (const r of group.routes) OAUTH_HANDLERS.add(r.handler);
  return group;
}
const isOAuthRoute = (c: Context) => matchedRoutes(c).some((r) => OAUTH_HANDLERS.has(r.handler));

export function toStintError(err: unknown): StintError {
  if (isStintError(err)) return err;
  return new StintError('server_error', 'unexpected error; nothing was issued', { cause: err });
}

export function errorResponse(c: Context, err: unknown, log: (msg: string) => void = console.error): Response {
  const e = toStintError(err);
  if (e.code === 'server_error' || e.code === 'temporarily_unavailable') {
    // The cause is ours to read, not the client's; it never contains request secrets.
    log(`${c.req.method} ${new URL(c.req.url).pathname}: ${e.code}: ${describeCause(e.cause, e.message)}`);
  }
  const headers: Record<string, string> = { ...NO_STORE };
  // Every 503 says when to come back (RFC 9110 §10.2.3); a 429's limiter sets its own wait.
  if (e.status === 503) headers['Retry-After'] = String(e.retryAfter ?? RETRY_AFTER_UNAVAILABLE_S);
  if (e.status === 429) headers['Retry-After'] = String(e.retryAfter ?? 1);
  // RFC 6749 §5.2: a challenge only answers credentials sent in the Authorization header.
  if (e.status === 401 && (c.req.header('Authorization') || e.code !== 'invalid_client')) {
    headers['WWW-Authenticate'] = authenticateHeader(c, e);
  }
  if (isOAuthRoute(c)) {
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

function describeCause(cause: unknown, message: string): string {
  if (cause === undefined) return message; // a refusal of ours (a full line, a limit), not a failure
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
