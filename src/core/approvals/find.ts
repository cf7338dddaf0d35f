import { current } from './decide.js';
import type { ActionRequest, ApprovalCore } from './types.js';

/** The parts of an action request that say which action it is (not the trajectory snapshot). */
export type ActionKey = Pick<ActionRequest, 'task_id' | 'capability' | 'resource' | 'environment' | 'jkt' | 'binding_message'>;

/**
 * The request among `candidates` (the broker's record of what this task asked, newest first)
 * that is still open (pending, or approved and not yet handed out) for exactly this action,
 * asked by this client: a second ask for it is answered with it, not with a second row for
 * the approvers.
 */
export async function findOpenApproval(core: ApprovalCore, clientId: string, action: ActionKey, candidates: string[]) {
  for (const id of candidates) {
    const r = await current(core, id);
    if (!r || r.clientId !== clientId || (r.status !== 'pending' && r.status !== 'approved')) continue;
    const q = r.request;
    const same =
      q.task_id === action.task_id &&
      q.capability === action.capability &&
      q.resource === action.resource &&
      q.environment === action.environment &&
      q.jkt === action.jkt &&
      (q.binding_message ?? null) === (action.binding_message ?? null);
    if (!same) continue;
    return { auth_req_id: r.id, expires_in: Math.max(1, Math.ceil((r.expiresAt - core.clock.now()) / 1000)), interval: r.interval };
  }
  return undefined;
}
