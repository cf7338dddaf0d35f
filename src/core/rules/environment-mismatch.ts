import type { PresentationFacts } from './facts.js';
import { allow, stop, type Rule } from './types.js';

/**
 * A token of one environment presented, by its own key, to a service of another: the task
 * reached outside its environment. Only a service whose audience maps to an environment can
 * tell, and only a presentation with a proof of the token's key says the task did it.
 */
export const environmentMismatch: Rule<PresentationFacts> = {
  name: 'environment_mismatch',
  trigger: 'presentation',
  stops: true,
  refuseCode: 'invalid_token',
  evaluate(f) {
    if (!f.ours || f.proof !== 'own_key' || f.servedEnvironment === undefined) return allow;
    const env = f.owner!.environment;
    if (env === f.servedEnvironment) return allow;
    return stop('environment_mismatch', `a ${env} token was presented to ${f.where}, which serves ${f.servedEnvironment}`);
  },
};
