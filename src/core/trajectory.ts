import type { Core } from './context.js';
import type { TaskEventKind } from './ports.js';

/**
 * Records one step of a task's trajectory and the matching audit record. The audit append
 * comes first: if it fails, the caller fails closed and the step never happened.
 */
export async function record(
  core: Core,
  e: { taskId: string; kind: TaskEventKind; type: string; actor: string; detail: Record<string, unknown> },
) {
  const at = core.clock.now();
  // The event holds what the audit record holds, text capped once (core/cap.ts).
  const { data } = await core.audit.append({ type: e.type, actor: e.actor, taskId: e.taskId, data: e.detail });
  await core.store.tasks.addEvent({ taskId: e.taskId, at, kind: e.kind, detail: { ...data, type: e.type } });
}
