import type { ApprovalCore } from './types.js';

export type VoidScope = { task_id: string } | { agent: string; before: number } | { environment: string; before: number } | { all: true; before: number };

/**
 * A stop or revocation voids pending approvals and undelivered grants of the tasks it covers.
 * Scope revocations cover requests opened at or before their epoch.
 */
export async function voidApprovals(core: ApprovalCore, scope: VoidScope, reason: string): Promise<string[]> {
  const open = [...(await core.approvals.requests.list('pending', 10_000)), ...(await core.approvals.requests.list('approved', 10_000))];
  const hit = open.filter((r) => {
    if ('task_id' in scope) return r.request.task_id === scope.task_id;
    if (r.createdAt > scope.before) return false;
    if ('agent' in scope) return r.request.agent === scope.agent;
    if ('environment' in scope) return r.request.environment === scope.environment;
    return true;
  });
  const voided: string[] = [];
  for (const r of hit) {
    if (await core.approvals.requests.transition(r.id, ['pending', 'approved'], 'voided', reason)) {
      await core.audit.append({ type: 'approval.voided', actor: 'broker', taskId: r.request.task_id, data: { approval_id: r.id, reason } });
      voided.push(r.id);
    }
  }
  return voided;
}
