import type { Core } from './context.js';
import { StintError } from './errors.js';
import type { TaskRecord } from './ports.js';
import { record } from './trajectory.js';
import { revokeScope } from './revocation.js';
import { agentScope } from './scope.js';

/** The name of a stopping rule of the registry (core/rules/registry.ts). */
export type StopRule = string;

export const stoppedError = (task: Pick<TaskRecord, 'id' | 'statusReason'>) =>
  new StintError('task_stopped', `task ${task.id} was stopped by rule ${task.statusReason ?? '(unknown)'}`, { recorded: true });

/**
 * A stop event: the task is halted (status `stopped`, rule and reason recorded), every token
 * it holds dies with it, the event is in the audit log and pushed to verifiers, and, if the
 * task's agent reached for a credential that was not its own, the agent is locked until an
 * operator releases it. Returns whether this call stopped it (a concurrent stop may win).
 */
export async function stopTask(
  core: Core,
  task: TaskRecord,
  rule: StopRule,
  reason: string,
  opts: { actor: string; lockAgent: boolean; detail?: Record<string, unknown> },
): Promise<boolean> {
  const stopped = await core.store.tasks.end(task.id, 'stopped', `${rule}: ${reason}`);
  if (stopped) {
    await record(core, {
      taskId: task.id,
      kind: 'stop',
      type: 'task.stopped',
      actor: opts.actor,
      // The task's own agent and environment last: a caller's detail may name another environment
      // (the token endpoint's is the one the agent asked for), and a subscriber filtered by
      // environment must hear the stop of a task in its own.
      detail: { rule, reason, ...detailOf(opts.detail, task.environment), agent: task.agentId, environment: task.environment },
    });
  }
  if (opts.lockAgent) await lockAgent(core, task.agentId, `task ${task.id} stopped by rule ${rule}`, opts.actor);
  return stopped;
}

/**
 * Locks an agent: it gets nothing from the broker until an operator releases it, and
 * everything it holds on any of its tasks dies now — its scope's epoch is raised (one write,
 * pushed to verifiers as `scope.revoked`, which also voids its pending approvals and
 * undelivered grants), so a second task under another key is no way around the stop.
 */
export async function lockAgent(core: Core, agentId: string, reason: string, actor: string) {
  if (await core.store.agents.setStatus(agentId, 'locked')) {
    await core.audit.append({ type: 'agent.locked', actor, data: { agent: agentId, reason } });
    await revokeScope(core, agentScope(agentId), actor);
  }
}

/** Operator release of a locked agent: it may open new tasks again (its stopped tasks stay stopped). */
export async function releaseAgent(core: Core, agentId: string, actor: string) {
  const agent = await core.store.agents.get(agentId);
  if (!agent) throw new StintError('not_found', 'no such agent');
  if (await core.store.agents.setStatus(agentId, 'active')) {
    await core.audit.append({ type: 'agent.released', actor, data: { agent: agentId } });
  }
  return { ...agent, status: 'active' as const };
}

/** A caller's detail, its `environment` kept as `requested_environment` where it is not the task's. */
function detailOf(detail: Record<string, unknown> | undefined, environment: string): Record<string, unknown> {
  if (!detail || !('environment' in detail)) return detail ?? {};
  const { environment: asked, ...rest } = detail;
  return asked === environment ? rest : { ...rest, requested_environment: asked };
}
