import type { Core } from './context.js';
import { isTokenLive } from './token-state.js';
import type { StintClaims } from './tokens.js';
import { verifyStintToken } from './verify-token.js';

export type IntrospectionCaller = { kind: 'operator' } | { kind: 'resource'; audience: string };

/**
 * RFC 7662. Anything not issued by us, expired, revoked, of an ended task, or (for a resource
 * service) meant for another audience is simply `{active:false}`: no reason is given away.
 */
export async function introspect(core: Core, token: string, caller: IntrospectionCaller): Promise<Record<string, unknown>> {
  let claims: StintClaims;
  try {
    claims = await verifyStintToken(core, token);
  } catch {
    return { active: false };
  }
  if (caller.kind === 'resource' && claims.aud !== caller.audience) return { active: false };
  if (!(await isTokenLive(core, claims))) return { active: false };
  // A grant is single-use: the first introspection by a resource service consumes it, in one
  // guarded statement. An operator looking at it must not use it up (nor learn whether it was).
  if (claims.token_use === 'grant') {
    if (caller.kind === 'operator') return { active: true, token_type: 'DPoP', ...claims, single_use: true };
    if (!(await core.store.replay.consume('grant', claims.jti, claims.exp * 1000 + 1000))) return { active: false };
  }
  return { active: true, token_type: 'DPoP', ...claims };
}
