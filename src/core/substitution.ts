import type { Core } from './context.js';
import { StintError } from './errors.js';
import type { AgentRecord } from './ports.js';
import { lockAgent, stopTask } from './stop.js';
import type { StintClaims } from './tokens.js';
import { record } from './trajectory.js';

/** Revokes a token that turned up in the wrong hands. Its owner is not locked. */
export async function revokeLeaked(core: Core, leaked: StintClaims, actor: string, why: string) {
  await core.store.revocations.revokeToken(leaked.jti, leaked.exp * 1000 + 1000);
  await record(core, {
    taskId: leaked.task_id,
    kind: 'revoke',
    type: 'token.revoked',
    actor,
    detail: { jti: leaked.jti, token_use: leaked.token_use, agent: leaked.sub, environment: leaked.env, exp: leaked.exp, reason: `leaked: ${why}` },
  });
}

/**
 * Credential substitution seen by the broker itself: an agent, holding DPoP key `jkt`,
 * presented a credential that is not its own. Every task of that agent bound to that key is
 * stopped, the agent is locked, and the leaked token (if it is one of ours) is revoked.
 * Under a policy that only refuses, the request is refused and recorded, nothing more.
 */
export async function onSubstitution(core: Core, agent: AgentRecord, jkt: string, why: string, leaked?: StintClaims): Promise<never> {
  const detail = { presented_jkt: jkt, leaked_jti: leaked?.jti, leaked_task: leaked?.task_id, leaked_agent: leaked?.sub, leaked_environment: leaked?.env };
  if (leaked) await revokeLeaked(core, leaked, agent.id, why);
  const tasks = await core.store.tasks.activeByKey(jkt, agent.id);
  // The agent's own token under another key: that task's credential is out of its hands too.
  if (leaked && leaked.sub === agent.id && !tasks.some((t) => t.id === leaked.task_id)) {
    const own = await core.store.tasks.get(leaked.task_id);
    if (own?.status === 'active') tasks.push(own);
  }
  if (core.policy.trajectory.rules.substitution === 'refuse') {
    for (const t of tasks) await record(core, { taskId: t.id, kind: 'denial', type: 'credential.refused', actor: agent.id, detail: { reason: why, risk: 'read', ...detail } });
    throw new StintError('invalid_grant', `subject_token is not yours: ${why}`, { recorded: tasks.length > 0 });
  }
  for (const t of tasks) await stopTask(core, t, 'substitution', why, { actor: agent.id, lockAgent: false, detail });
  await lockAgent(core, agent.id, `credential substitution: ${why}`, agent.id);
  if (tasks.length === 0) await core.audit.append({ type: 'credential.substitution', actor: agent.id, data: { reason: why, ...detail } });
  const which = tasks.length ? `task ${tasks.map((t) => t.id).join(', ')} was stopped` : 'the agent was locked';
  throw new StintError('task_stopped', `${which} by rule substitution: ${why}`, { recorded: true });
}
