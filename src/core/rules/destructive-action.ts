import { LOCAL } from '../tool-call.js';
import { allow, refuse, stop, type Rule } from './types.js';
import type { ToolCallRuleFacts } from './tool-call-facts.js';

/**
 * Destructive actions seen on the tool-call path, judged against the task. Two rules, asked at
 * different points of the trigger:
 * - `destructiveElsewhere` (before credentials shown and doubt): a classified destructive action
 *   for another environment than the task's, or outside its ceiling, is a stop — proof enough,
 *   whatever else in the call cannot be read (an unknown credential header, say).
 * - `destructiveAction` (last): inside the ceiling, each action needs its own approval (refused
 *   outright under recent failures: high impact, low confidence); an approved action is allowed
 *   once. Actions on this machine (`local`) are not another environment's and pass.
 */
export type DestructiveActionFacts = Pick<ToolCallRuleFacts, 'actions' | 'task' | 'recentFailures' | 'maxRecentFailures' | 'approved'>;

const destructiveOf = (f: Pick<ToolCallRuleFacts, 'actions'>) => f.actions.filter((a) => a.risk === 'destructive' && a.environment !== LOCAL);

export const destructiveElsewhere: Rule<Pick<ToolCallRuleFacts, 'actions' | 'task'>> = {
  name: 'destructive_elsewhere',
  trigger: 'tool_call.pre',
  // Its stops are `environment_mismatch` and `destructive_outside_ceiling`: policy governs them there.
  stops: false,
  evaluate(f) {
    const destructive = destructiveOf(f);
    const elsewhere = destructive.find((a) => a.environment !== f.task.environment);
    if (elsewhere) return stop('environment_mismatch', `${elsewhere.capability} (${elsewhere.what}) acts on ${elsewhere.environment}, but the task is in ${f.task.environment}`);
    const outside = destructive.find((a) => !f.task.ceiling.includes(a.capability));
    if (outside) return stop('destructive_outside_ceiling', `${outside.capability} (${outside.what}) is outside the task's ceiling`);
    return allow;
  },
};

export const destructiveAction: Rule<DestructiveActionFacts> = {
  name: 'destructive_action',
  trigger: 'tool_call.pre',
  stops: false,
  shadowable: true,
  evaluate(f) {
    const waiting = destructiveOf(f).filter((a) => !f.approved.includes(a.key));
    if (waiting.length === 0) return allow;
    if (f.recentFailures >= f.maxRecentFailures) {
      return refuse('access_denied', `high impact, low confidence: ${f.recentFailures} refusals or tool errors recently; ${waiting[0]!.capability} is refused without asking approvers`);
    }
    return refuse('approval_required', `${waiting.map((a) => `${a.capability} (${a.what})`).join(', ')} needs human approval, each action its own`);
  },
};
