import type { Core } from './context.js';
import type { TaskRecord } from './ports.js';
import type { StintClaims } from './tokens.js';

/**
 * The task's status now. A task past its hard expiry is moved to `expired` on first sight, so
 * that every reader agrees from then on.
 */
export async function currentTask(core: Core, taskId: string): Promise<TaskRecord | undefined> {
  const task = await core.store.tasks.get(taskId);
  if (!task || task.status !== 'active' || core.clock.now() < task.expiresAt) return task;
  await core.store.tasks.end(task.id, 'expired', 'the task reached its hard expiry');
  return (await core.store.tasks.get(taskId)) ?? task;
}

/** Whether a token whose signature and lifetime already verified is still in force. */
export async function isTokenLive(core: Core, claims: StintClaims): Promise<boolean> {
  const [revoked, task] = await Promise.all([core.store.revocations.isTokenRevoked(claims.jti), currentTask(core, claims.task_id)]);
  return !revoked && task?.status === 'active';
}
