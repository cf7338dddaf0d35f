import { allow, refuse, type Rule } from './types.js';
import type { ToolCallRuleFacts } from './tool-call-facts.js';

/**
 * Reading a credential stint did not issue to this task (a Read of `.env`, `cat` of a token
 * file, the credential lines a search would print) is refused and recorded: the agent is kept
 * from learning it. Not a stop: reading is not yet using, and agents open files that hold
 * secrets by accident.
 */
export type CredentialExposureFacts = Pick<ToolCallRuleFacts, 'exposed'>;

export const credentialExposure: Rule<CredentialExposureFacts> = {
  name: 'credential_exposure',
  trigger: 'tool_call.pre',
  stops: false,
  shadowable: true,
  evaluate({ exposed }) {
    if (exposed.length === 0) return allow;
    // No fingerprint in the answer: the caller chooses what it sends, and keyed fingerprints handed
    // back would let it build the dictionary the key prevents. The audit record keeps them.
    const list = exposed.map((c) => `${c.kind}${c.file ? ` in ${c.file}` : ''}`).join(', ');
    return refuse('access_denied', `the call would show a credential stint did not issue to this task: ${list}`);
  },
};
