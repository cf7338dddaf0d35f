import type { Risk } from '../policy.js';
import type { ClassifiedAction } from '../tool-call.js';
import { allow, refuse, stop, type Rule } from './types.js';

/**
 * A destructive action seen on the tool-call path, judged against the task: another environment
 * than the task's is a stop; outside the ceiling is a stop; inside it, human approval first
 * (refused outright under recent failures: high impact, low confidence), or allowed once when
 * this exact call was approved. An action whose environment cannot be told was already placed
 * in the most protected environment by the caller.
 */
export interface DestructiveActionFacts {
  /** The destructive actions of the call, environment resolved (unknown → most protected). */
  actions: (ClassifiedAction & { environment: string; risk: Risk })[];
  task: { environment: string; ceiling: string[] };
  recentFailures: number;
  maxRecentFailures: number;
  /** This exact call was approved and the grant is being used now. */
  approved: boolean;
}

export const destructiveAction: Rule<DestructiveActionFacts> = {
  name: 'destructive_action',
  trigger: 'tool_call.pre',
  // Its stops are `environment_mismatch` and `destructive_outside_ceiling`: policy governs them there.
  stops: false,
  evaluate(f) {
    const destructive = f.actions.filter((a) => a.risk === 'destructive');
    if (destructive.length === 0) return allow;
    const elsewhere = destructive.find((a) => a.environment !== f.task.environment);
    if (elsewhere) return stop('environment_mismatch', `${elsewhere.capability} (${elsewhere.what}) acts on ${elsewhere.environment}, but the task is in ${f.task.environment}`);
    const outside = destructive.find((a) => !f.task.ceiling.includes(a.capability));
    if (outside) return stop('destructive_outside_ceiling', `${outside.capability} (${outside.what}) is outside the task's ceiling`);
    if (f.approved) return allow;
    if (f.recentFailures >= f.maxRecentFailures) {
      return refuse('access_denied', `high impact, low confidence: ${f.recentFailures} refusals or tool errors recently; ${destructive[0]!.capability} is refused without asking approvers`);
    }
    return refuse('approval_required', `${destructive.map((a) => `${a.capability} (${a.what})`).join(', ')} needs human approval`);
  },
};
