import type { CapabilityFacts } from './facts.js';
import { allow, refuse, type Rule } from './types.js';

/**
 * High impact plus low confidence: a destructive request while the task has had too many recent
 * refusals or tool errors is refused outright, without asking approvers.
 */
export const highImpactLowConfidence: Rule<CapabilityFacts> = {
  name: 'high_impact_low_confidence',
  trigger: 'approval',
  stops: false,
  evaluate(f) {
    const { window, maxRecentFailures } = f.policy.trajectory;
    if (f.risk !== 'destructive' || f.recentFailures < maxRecentFailures) return allow;
    return refuse('access_denied', `high impact, low confidence: ${f.recentFailures} refusals or tool errors in the last ${window}s; ${f.capabilities.join(', ')} is refused without asking approvers`);
  },
};
