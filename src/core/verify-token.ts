import type { Core } from './context.js';
import { StintError } from './errors.js';
import { verifyToken, type StintClaims } from './tokens.js';

/** Verified tokens per key ring (so two brokers in one process never share an entry). */
const caches = new WeakMap<object, Map<string, StintClaims>>();

/**
 * Verifies any token stint issued: the broker's own (task, capability) and the approval
 * authority's grants. Which key signed it decides what it may be: a grant is only valid under
 * an approval key, and an approval key signs nothing else.
 */
export async function verifyStintToken(core: Core, token: string, opts: { allowExpired?: boolean } = {}): Promise<StintClaims> {
  const resolve = async (kid: string) => core.keys.publicKey(kid) ?? (kid.startsWith('approval.') ? core.approvals?.key(kid) : undefined);
  // A token is immutable: once its signature verified, only its lifetime can change. Task
  // tokens come back on every exchange and capability tokens on every introspection.
  let verified = caches.get(core.keys);
  if (!verified) caches.set(core.keys, (verified = new Map()));
  const hit = verified.get(token);
  if (hit && (opts.allowExpired || core.clock.now() < hit.exp * 1000)) return hit;
  const { claims, kid } = await verifyToken(resolve, core.issuer, token, core.clock.now(), opts);
  const byApproval = kid.startsWith('approval.');
  if (byApproval !== (claims.token_use === 'grant')) throw new StintError('invalid_token', 'token type and signing authority do not match', { reason: 'foreign' });
  if (verified.size >= 50_000) verified.clear();
  verified.set(token, claims);
  return claims;
}
