import type { MiddlewareHandler } from 'hono';
import { isStintError, StintError } from '../core/errors.js';
import type { StintClaims } from '../core/tokens.js';
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
    try {
      const { claims } = await verifier.verify(c.req.raw);
      if (opts.capability && !(claims.scope ?? '').split(' ').includes(opts.capability)) {
        throw new StintError('forbidden', `this call needs ${opts.capability}`);
      }
      c.set('stint', claims);
    } catch (e) {
      const err = isStintError(e) ? e : new StintError('invalid_token', 'token could not be verified');
      const status = err.code === 'temporarily_unavailable' ? 503 : err.code === 'forbidden' ? 403 : 401;
      const error = status === 403 ? 'insufficient_scope' : status === 503 ? 'temporarily_unavailable' : 'invalid_token';
      const desc = err.message.replace(/["\\]/g, "'");
      if (status !== 503) c.header('WWW-Authenticate', `DPoP error="${error}", error_description="${desc}", algs="EdDSA Ed25519 ES256"`);
      return c.json({ error, error_description: err.message }, status);
    }
    await next();
  };
}
