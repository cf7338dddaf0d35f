import type { PresentationFacts } from './facts.js';
import { allow, stop, type Rule } from './types.js';

/**
 * Credential substitution (PRODUCT.md point 4): a credential that is not the presenter's own,
 * shown with a key of the presenter's own. The presenter's task bound to that key is stopped.
 * Shown with no proof at all the token has merely leaked: that is the leaked-token path
 * (revoke it, stop nobody), not this rule; shown by its owner with its own key it is not
 * substitution at all.
 */
export const substitution: Rule<PresentationFacts> = {
  name: 'substitution',
  trigger: 'presentation',
  stops: true,
  refuseCode: 'invalid_grant',
  locksAgent: true,
  evaluate(f) {
    if (f.forbiddenPlace && f.ours && f.proof === 'own_key') return stop('substitution', `reached for ${f.where} with its own credential (task ${f.owner!.taskId})`);
    if (f.proof !== 'other_key') return allow;
    if (!f.ours) return stop('substitution', `presented a credential the broker never issued to ${f.where}`);
    const o = f.owner!;
    if (f.presenter && f.presenter.agentId !== o.agentId) return stop('substitution', `presented a token issued to another agent (${o.agentId}, ${o.environment}) to ${f.where}`);
    return stop('substitution', `presented a token bound to another DPoP key (task ${o.taskId}, ${o.environment}) to ${f.where}`);
  },
};
