import { allow, refuse, type Rule } from './types.js';

/** A call the guard could not read (unparseable shell, SQL or GraphQL, an opaque payload) is not allowed. */
export interface UncertaintyFacts {
  uncertain?: string;
}

export const uncertainty: Rule<UncertaintyFacts> = {
  name: 'uncertainty',
  trigger: 'tool_call.pre',
  stops: false,
  evaluate({ uncertain }) {
    return uncertain ? refuse('access_denied', `cannot tell what this call does (${uncertain}); it is blocked`) : allow;
  },
};
