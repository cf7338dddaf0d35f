import type { Core } from './context.js';
import type { VoidScope } from './approvals/void.js';
import { parseScopeKey } from './scope.js';

/**
 * Keeps the approval service in step with stops and revocations: pending approvals and
 * undelivered grants of a task that ended are voided there, so approvers never approve a
 * dead task. (The broker refuses to hand over a grant for a dead task in any case.)
 */
export function startApprovalVoiding(core: Core, log: (m: string) => void = console.error, track: (p: Promise<unknown>) => void = () => {}): () => void {
  if (!core.approvals) return () => {};
  const gateway = core.approvals;
  return core.events.subscribe((e) => {
    let scope: VoidScope | undefined;
    if ((e.type === 'task.stopped' || e.type === 'task.revoked' || e.type === 'task.completed') && e.task_id) scope = { task_id: e.task_id };
    else if (e.type === 'token.revoked' && e.token_use === 'task' && e.task_id) scope = { task_id: e.task_id };
    else if (e.type === 'scope.revoked' && typeof e.scope === 'string' && typeof e.epoch === 'number') {
      const s = parseScopeKey(e.scope);
      if (s) scope = s.kind === 'agent' ? { agent: s.id, before: e.epoch } : s.kind === 'environment' ? { environment: s.name, before: e.epoch } : { all: true, before: e.epoch };
    }
    if (scope) track(gateway.void(scope, `${e.type}${typeof e.reason === 'string' ? `: ${e.reason}` : ''}`).catch((err) => log(`approval voiding failed: ${(err as Error).message}`)));
  });
}
