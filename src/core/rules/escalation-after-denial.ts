import { RISK_ORDER } from '../policy.js';
import type { CapabilityFacts } from './facts.js';
import { allow, stop, type Rule } from './types.js';

/**
 * After a refusal within the window, asking for more — a higher risk than what was refused, or
 * a resource in another environment — is the incident's "failure → workaround → escalation".
 */
export const escalationAfterDenial: Rule<CapabilityFacts> = {
  name: 'escalation_after_denial',
  trigger: 'capability',
  stops: true,
  refuseCode: 'invalid_authorization_details',
  evaluate(f) {
    if (f.recentDenials.length === 0) return allow;
    const denied = Math.max(0, ...f.recentDenials.map((d) => (d.risk ? RISK_ORDER[d.risk] : 0)));
    if (RISK_ORDER[f.risk] > denied) return stop('escalation_after_denial', `after a refusal, asked for ${f.risk}-risk ${f.capabilities.join(', ')}`);
    if (f.environment !== f.task.environment) return stop('escalation_after_denial', `after a refusal, asked for a resource in ${f.environment}`);
    return allow;
  },
};
