import type { Core } from './context.js';
import type { TaskRecord } from './ports.js';
import type { StintClaims } from './tokens.js';

/**
 * Whether a scope revoked at `epoch` (ms) covers a token. With the token's `task_opened_ms`: the
 * tasks opened at or before the epoch, to the millisecond, as the broker decides through the
 * task (token-state's `settle`); a token minted just after the epoch for a task opened before it
 * is covered too, whatever its own `iat`. Without it (grants, older tokens): every token issued
 * at or before the epoch's second, since `iat` has one-second resolution; we err towards
 * revoking, never towards leaving one alive.
 */
export const coveredBy = (issuedAtSec: number, epochMs: number, taskOpenedMs?: number) =>
  epochMs > 0 && (typeof taskOpenedMs === 'number' && Number.isFinite(taskOpenedMs) ? taskOpenedMs <= epochMs : issuedAtSec <= Math.floor(epochMs / 1000));

/**
 * The task's status now. A task past its hard expiry, or under a scope revoked since it was
 * opened, is moved out of `active` on first sight, so every reader agrees from then on.
 */
export async function currentTask(core: Core, taskId: string): Promise<TaskRecord | undefined> {
  const { task, epoch } = await core.store.tasks.state(taskId);
  return task && settle(core, task, epoch);
}

async function settle(core: Core, task: TaskRecord, epoch: number): Promise<TaskRecord> {
  if (task.status !== 'active') return task;
  let ended: [TaskRecord['status'], string] | undefined;
  if (core.clock.now() >= task.expiresAt) ended = ['expired', 'the task reached its hard expiry'];
  // The task's own opening time is in milliseconds: a task opened after a revocation, even in
  // the same second, is not under it (its tokens, checked through their task here, live).
  else if (epoch > 0 && task.createdAt <= epoch) ended = ['revoked', 'revoked with its agent or environment'];
  if (!ended) return task;
  await core.store.tasks.end(task.id, ended[0] as 'expired', ended[1]);
  return (await core.store.tasks.get(task.id)) ?? task;
}

/** A verified token's task, settled as currentTask does, and whether the token itself is revoked: one read. */
export async function tokenTask(core: Core, claims: StintClaims): Promise<{ task?: TaskRecord; revoked: boolean }> {
  const { task, epoch, revoked } = await core.store.tasks.state(claims.task_id, claims.jti);
  return { task: task && (await settle(core, task, epoch)), revoked };
}

/** Whether a token whose signature and lifetime already verified is still in force. */
export async function isTokenLive(core: Core, claims: StintClaims): Promise<boolean> {
  const { task, revoked } = await tokenTask(core, claims);
  return !revoked && task?.status === 'active';
}
