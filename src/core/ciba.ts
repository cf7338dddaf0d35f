import type { Core } from './context.js';
import { StintError } from './errors.js';
import type { AgentRecord } from './ports.js';
import { stoppedError } from './stop.js';
import { currentTask } from './token-state.js';
import { record } from './trajectory.js';
import { verifyStintToken } from './verify-token.js';

/**
 * The CIBA poll (`urn:openid:params:grant-type:ciba`): relays the approval service's answer.
 * The grant is minted and signed there, by a key this process never holds; here it is only
 * checked (signature, task still live) and handed over.
 */
export async function pollGrant(core: Core, agent: AgentRecord, jkt: string, authReqId: string) {
  if (!core.approvals) throw new StintError('invalid_grant', 'no approval service is configured');
  const r = await core.approvals.poll(authReqId, agent.id, jkt);
  if (r.status !== 'granted') throw new StintError(r.status, r.description, { fields: r.interval ? { interval: r.interval } : {} });
  const claims = await verifyStintToken(core, r.access_token);
  const task = await currentTask(core, claims.task_id);
  if (!task || task.status !== 'active') {
    if (task?.status === 'stopped') throw stoppedError(task);
    throw new StintError('access_denied', `task ${claims.task_id} is ${task?.status ?? 'unknown'}: the grant is void`);
  }
  await record(core, { taskId: task.id, kind: 'grant', type: 'grant.delivered', actor: agent.id, detail: { auth_req_id: authReqId, jti: claims.jti, capabilities: [r.scope], resource: claims.aud, exp: claims.exp } });
  return { ...r, claims };
}
