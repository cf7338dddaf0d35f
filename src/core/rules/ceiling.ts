import type { CapabilityFacts } from './facts.js';
import { allow, refuse, stop, type Rule } from './types.js';

const outsideOf = (f: CapabilityFacts) => {
  const template = f.policy.templates[f.task.template];
  const ceiling = template?.ceiling ?? [];
  const outside = f.capabilities.filter((c) => !ceiling.includes(c));
  return { outside, why: `${outside.join(', ')} is outside the ceiling of template "${f.task.template}" (${ceiling.join(', ')})` };
};

/** A destructive capability outside the task's ceiling: the agent reached for what it was never given. */
export const destructiveOutsideCeiling: Rule<CapabilityFacts> = {
  name: 'destructive_outside_ceiling',
  trigger: 'capability',
  stops: true,
  refuseCode: 'invalid_authorization_details',
  evaluate(f) {
    const { outside, why } = outsideOf(f);
    return outside.some((c) => f.policy.capabilities[c]?.risk === 'destructive') ? stop('destructive_outside_ceiling', why) : allow;
  },
};

/** Anything else outside the ceiling is refused (and the refusal is on the trajectory). */
export const ceiling: Rule<CapabilityFacts> = {
  name: 'ceiling',
  trigger: 'capability',
  stops: false,
  evaluate(f) {
    const { outside, why } = outsideOf(f);
    return outside.length > 0 ? refuse('invalid_authorization_details', why) : allow;
  },
};
