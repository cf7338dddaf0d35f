import type { Core } from './context.js';
import { StintError } from './errors.js';
import { verifyToken, type StintClaims } from './tokens.js';

/**
 * Verifies any token stint issued: the broker's own (task, capability) and the approval
 * authority's grants. Which key signed it decides what it may be: a grant is only valid under
 * an approval key, and an approval key signs nothing else.
 */
export async function verifyStintToken(core: Core, token: string, opts: { allowExpired?: boolean } = {}): Promise<StintClaims> {
  const resolve = async (kid: string) => core.keys.publicKey(kid) ?? (kid.startsWith('approval.') ? core.approvals?.key(kid) : undefined);
  const { claims, kid } = await verifyToken(resolve, core.issuer, token, core.clock.now(), opts);
  const byApproval = kid.startsWith('approval.');
  if (byApproval !== (claims.token_use === 'grant')) throw new StintError('invalid_token', 'token type and signing authority do not match', { reason: 'foreign' });
  return claims;
}
