import { signToken } from '../tokens.js';
import { current } from './decide.js';
import type { ApprovalCore } from './types.js';

/** A grant lives at most this long, seconds. */
export const GRANT_TTL = 60;

export type PollResult =
  | { status: 'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'invalid_grant'; description: string; interval?: number }
  | { status: 'granted'; access_token: string; expires_in: number; scope: string; authorization_details: unknown[] };

/**
 * The CIBA poll, as the broker relays it. On the first poll after approval the approval
 * authority mints the grant: one token, for exactly the approved action, bound to the task's
 * DPoP key, valid 60 s. It is handed out once: the `approved → delivered` transition has one
 * winner.
 */
export async function pollApproval(core: ApprovalCore, id: string, clientId: string, jkt: string): Promise<PollResult> {
  const r = await current(core, id);
  if (!r || r.clientId !== clientId) return { status: 'invalid_grant', description: 'unknown auth_req_id' };
  if (r.request.jkt !== jkt) return { status: 'invalid_grant', description: 'poll with the DPoP key of the task that asked' };
  const now = core.clock.now();
  switch (r.status) {
    case 'denied':
    case 'voided':
      return { status: 'access_denied', description: r.statusReason ?? `the request was ${r.status}` };
    case 'expired':
      return { status: 'expired_token', description: 'the approval request expired' };
    case 'delivered':
      return { status: 'invalid_grant', description: 'the grant was already delivered' };
    case 'pending': {
      const tooSoon = r.lastPollAt !== null && now - r.lastPollAt < r.interval * 1000;
      const interval = tooSoon ? r.interval + 5 : r.interval;
      await core.approvals.requests.touch(id, now, interval);
      return tooSoon
        ? { status: 'slow_down', description: `poll at most every ${interval}s`, interval }
        : { status: 'authorization_pending', description: 'waiting for approvers', interval };
    }
  }
  if (!(await core.approvals.requests.transition(id, ['approved'], 'delivered', 'grant delivered'))) {
    return { status: 'invalid_grant', description: 'the grant was already delivered' };
  }
  const q = r.request;
  const ttl = Math.min(GRANT_TTL, Math.max(1, Math.floor((r.expiresAt - now) / 1000)));
  const detail = { type: 'stint_capability', actions: [q.capability], locations: [q.resource], approval_id: id };
  const { token, claims } = await signToken(
    core.keys,
    core.issuer,
    { sub: q.agent, aud: q.resource, client_id: q.agent, cnf: { jkt: q.jkt }, task_id: q.task_id, env: q.environment, token_use: 'grant', scope: q.capability, authorization_details: [detail] },
    now,
    ttl,
  );
  await core.audit.append({ type: 'grant.issued', actor: 'approval-authority', taskId: q.task_id, data: { approval_id: id, jti: claims.jti, capability: q.capability, resource: q.resource, exp: claims.exp } });
  return { status: 'granted', access_token: token, expires_in: ttl, scope: q.capability, authorization_details: [detail] };
}
