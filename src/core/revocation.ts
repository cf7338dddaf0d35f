import type { Core } from './context.js';
import { StintError } from './errors.js';

export type RevocationScope = { agent: string } | { environment: string } | { all: true };

/**
 * Revokes every token of an agent, an environment or everything, in one write: the scope's
 * epoch. Checks compare a token's issue time to it (`coveredBy`), so the cost is the same for
 * ten tokens or a hundred thousand, and the revocation holds before this returns.
 */
export async function revokeScope(core: Core, scope: RevocationScope, actor: string) {
  let key: string;
  if ('agent' in scope) {
    if (!(await core.store.agents.get(scope.agent))) throw new StintError('not_found', 'no such agent');
    key = `agent:${scope.agent}`;
  } else if ('environment' in scope) {
    if (!core.policy.environments[scope.environment]) throw new StintError('not_found', `no environment "${scope.environment}" in policy`);
    key = `env:${scope.environment}`;
  } else key = 'all';
  const epoch = core.clock.now();
  await core.store.revocations.raiseEpoch(key, epoch);
  await core.audit.append({ type: 'scope.revoked', actor, data: { scope: key, epoch, revoked_before: Math.floor(epoch / 1000) } });
  return { scope: key, epoch: new Date(epoch).toISOString(), revoked_issued_at_or_before: Math.floor(epoch / 1000) };
}
