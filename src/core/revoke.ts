import type { Core } from './context.js';
import { revokeLeaked } from './substitution.js';
import type { StintClaims } from './tokens.js';
import { verifyStintToken } from './verify-token.js';
import { record } from './trajectory.js';

export type RevocationCaller = { kind: 'operator' } | { kind: 'agent'; agentId: string };

/**
 * RFC 7009. Revoking a capability token revokes that token; revoking a task token revokes
 * the task and with it every token it holds. Unknown or expired tokens are already useless,
 * so the answer is the same 200 (RFC 7009 §2.2).
 */
export async function revokeToken(core: Core, token: string, caller: RevocationCaller): Promise<void> {
  let claims: StintClaims;
  try {
    claims = await verifyStintToken(core, token);
  } catch {
    return;
  }
  // Another agent's token in this agent's hands has leaked: it is revoked, and the answer is
  // the same 200 as for any token (a different answer would tell which tokens are live).
  if (caller.kind === 'agent' && claims.client_id !== caller.agentId) {
    await revokeLeaked(core, claims, caller.agentId, 'presented to /revoke by another agent');
    return;
  }
  const actor = caller.kind === 'agent' ? caller.agentId : 'operator';
  await core.store.revocations.revokeToken(claims.jti, claims.exp * 1000 + 1000);
  if (claims.token_use === 'task') await core.store.tasks.end(claims.task_id, 'revoked', `task token revoked by ${actor}`);
  await record(core, {
    taskId: claims.task_id,
    kind: 'revoke',
    type: 'token.revoked',
    actor,
    detail: { jti: claims.jti, token_use: claims.token_use, agent: claims.sub, environment: claims.env, exp: claims.exp },
  });
}
