import type { Core } from './context.js';
import { StintError } from './errors.js';
import { scopeKey, type RevocationScope } from './scope.js';

/**
 * Revokes every token of an agent, an environment or everything, in one write: the scope's
 * epoch. Checks compare a token's issue time to it (`coveredBy`), so the cost is the same for
 * ten tokens or a hundred thousand, and the revocation holds before this returns.
 */
export async function revokeScope(core: Core, scope: RevocationScope, actor: string) {
  if (scope.kind === 'agent' && !(await core.store.agents.get(scope.id))) throw new StintError('not_found', 'no such agent');
  if (scope.kind === 'environment' && !core.policy.environments[scope.name]) throw new StintError('not_found', `no environment "${scope.name}" in policy`);
  const key = scopeKey(scope);
  const epoch = core.clock.now();
  await core.store.revocations.raiseEpoch(scope, epoch);
  await core.audit.append({ type: 'scope.revoked', actor, data: { scope: key, epoch, revoked_before: Math.floor(epoch / 1000) } });
  return { scope: key, epoch: new Date(epoch).toISOString(), revoked_issued_at_or_before: Math.floor(epoch / 1000) };
}
