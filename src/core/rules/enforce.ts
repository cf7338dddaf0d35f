import type { Core } from '../context.js';
import { StintError } from '../errors.js';
import type { TaskRecord } from '../ports.js';
import { lockAgent, stopTask } from '../stop.js';
import { record } from '../trajectory.js';
import type { Decision } from './registry.js';

export interface EnforceTarget {
  /** The tasks the decision is about (a substitution may stop every task bound to a key). */
  tasks: TaskRecord[];
  /** The agents a stop locks (the presenter, or the owners of the stopped tasks). */
  agentIds: string[];
  /** Who caused the decision to be taken (the agent, a resource service, the operator). */
  actor: string;
  /** The trajectory entry a refusal leaves on each task, if any (`capability.denied`, …). */
  denial?: { type: string; kind?: 'denial' | 'signal' };
  /** Whether a stop also leaves the denial on the trajectory first. */
  denyBeforeStop?: boolean;
  detail: Record<string, unknown>;
}

export interface Enforced {
  decision: Decision;
  stopped: string[];
}

/**
 * The one place a decision takes effect: a refusal is recorded on the trajectory; a stop halts
 * each task (its tokens die, the event is pushed), locks the agent unless policy opts the rule
 * out, and is recorded even when no task is bound (the lock stands alone then). Returns what
 * was done; `answer()` turns it into the error the caller gives.
 */
export async function enforce(core: Core, decision: Decision, t: EnforceTarget): Promise<Enforced> {
  const out: Enforced = { decision, stopped: [] };
  if (decision.kind === 'allow') return out;
  const reason = decision.why;
  if (t.denial && (decision.kind === 'refuse' || t.denyBeforeStop)) {
    for (const task of t.tasks) {
      await record(core, { taskId: task.id, kind: t.denial.kind ?? 'denial', type: t.denial.type, actor: t.actor, detail: { ...t.detail, rule: decision.rule, reason } });
    }
  }
  if (decision.kind === 'refuse') return out;
  for (const task of t.tasks) {
    if (await stopTask(core, task, decision.rule, reason, { actor: t.actor, lockAgent: false, detail: t.detail })) out.stopped.push(task.id);
  }
  if (t.tasks.length === 0) await core.audit.append({ type: 'rule.stop', actor: t.actor, data: { rule: decision.rule, reason, agents: t.agentIds, ...t.detail } });
  if (decision.lockAgent) for (const id of new Set(t.agentIds)) await lockAgent(core, id, `${decision.rule}: ${reason}`, t.actor);
  return out;
}

/** The error a request gets for an enforced refusal or stop. */
export function answer(e: Enforced, t: Pick<EnforceTarget, 'tasks' | 'agentIds'>): StintError {
  const d = e.decision;
  if (d.kind === 'allow') return new StintError('server_error', 'nothing to answer');
  const recorded = t.tasks.length > 0;
  if (d.kind === 'refuse') return new StintError(d.code, d.why, { recorded });
  // A stop that caught nobody (a key no task is bound to): the credential is refused, that is all.
  if (t.tasks.length === 0 && t.agentIds.length === 0) return new StintError('invalid_token', d.why, { recorded: true });
  const ids = t.tasks.map((x) => x.id).join(', ');
  const which = ids ? `task ${ids} was stopped` : 'the agent was locked';
  // The contract: outside the ceiling is `invalid_authorization_details`, "and a destructive
  // one stops the task"; from the next request on, the task answers `task_stopped`.
  if (d.rule === 'destructive_outside_ceiling') return new StintError('invalid_authorization_details', `${d.why}; ${which} by rule ${d.rule}`, { recorded: true });
  return new StintError('task_stopped', `${which} by rule ${d.rule}: ${d.why}`, { recorded: true });
}
