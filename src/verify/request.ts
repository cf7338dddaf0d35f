import { isStintError, StintError } from '../core/errors.js';
import type { StintClaims } from '../core/tokens.js';
import type { StintVerifier } from './verifier.js';

export type VerifyResult =
  | { ok: true; claims: StintClaims; jkt: string }
  | {
      ok: false;
      status: 401 | 403 | 503;
      error: 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';
      error_description: string;
      /** Headers to answer with (`WWW-Authenticate`, RFC 9449 §7.1). */
      headers: Record<string, string>;
      /** The refusal as a ready Response (Fetch API: Workers, Deno, Bun, Node's fetch servers). */
      response: Response;
    };

/**
 * Framework-free verification of one request (a Fetch API `Request`): a live, DPoP-bound stint
 * capability token for this service and, if named, for `capability`. Never throws for a bad
 * token; the refusal comes back with its status, error and headers.
 */
export async function verify(verifier: StintVerifier, request: Request, opts: { capability?: string } = {}): Promise<VerifyResult> {
  try {
    const { claims, jkt } = await verifier.verify(request);
    if (opts.capability && !(claims.scope ?? '').split(' ').includes(opts.capability)) {
      throw new StintError('forbidden', `this call needs ${opts.capability}`);
    }
    return { ok: true, claims, jkt };
  } catch (e) {
    const err = isStintError(e) ? e : new StintError('invalid_token', 'token could not be verified');
    const status = err.code === 'temporarily_unavailable' ? 503 : err.code === 'forbidden' ? 403 : 401;
    const error = status === 403 ? 'insufficient_scope' : status === 503 ? 'temporarily_unavailable' : 'invalid_token';
    const desc = err.message.replace(/["\\]/g, "'");
    const headers: Record<string, string> = status === 503 ? {} : { 'WWW-Authenticate': `DPoP error="${error}", error_description="${desc}", algs="EdDSA Ed25519 ES256"` };
    const body = JSON.stringify({ error, error_description: err.message });
    return {
      ok: false,
      status,
      error,
      error_description: err.message,
      headers,
      response: new Response(body, { status, headers: { ...headers, 'Content-Type': 'application/json' } }),
    };
  }
}
