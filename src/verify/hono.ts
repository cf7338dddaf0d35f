import type { MiddlewareHandler } from 'hono';
import type { StintClaims } from '../core/tokens.js';
import { verify } from './request.js';
import type { StintVerifier } from './verifier.js';

export interface StintVariables {
  stint: StintClaims;
}

/**
 * Hono middleware for resource services: refuses any request without a live, DPoP-bound
 * stint capability token for this service (and, if named, for `capability`). On success the
 * claims are in `c.get('stint')`.
 */
export function stintAuth(verifier: StintVerifier, opts: { capability?: string } = {}): MiddlewareHandler<{ Variables: StintVariables }> {
  return async (c, next) => {
    const r = await verify(verifier, c.req.raw, opts);
    if (!r.ok) {
      for (const [k, v] of Object.entries(r.headers)) c.header(k, v);
      return c.json({ error: r.error, error_description: r.error_description }, r.status);
    }
    c.set('stint', r.claims);
    await next();
  };
}
