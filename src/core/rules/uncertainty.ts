import { allow, refuse, type Rule } from './types.js';
import type { ToolCallRuleFacts } from './tool-call-facts.js';

/**
 * A call the guard could not read or resolve (unparseable shell, SQL or GraphQL, a value known
 * only at run time, analysis past its deadline) is blocked, never stopped: a stop needs proof.
 */
export type UncertaintyFacts = Pick<ToolCallRuleFacts, 'uncertain'>;

export const uncertainty: Rule<UncertaintyFacts> = {
  name: 'uncertain',
  trigger: 'tool_call.pre',
  stops: false,
  shadowable: true,
  evaluate({ uncertain }) {
    return uncertain ? refuse('access_denied', `cannot tell what this call does (${uncertain}); it is blocked`) : allow;
  },
};
