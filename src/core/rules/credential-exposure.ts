import type { SeenCredential } from '../tool-call.js';
import { allow, refuse, type Rule } from './types.js';

/**
 * Reading a credential stint did not issue to this task (a Read of `.env`, `cat` of a token
 * file) is refused and recorded: the agent is kept from learning it. Not a stop: reading is not
 * yet using, and agents open files that hold secrets by accident.
 */
export interface CredentialExposureFacts {
  exposed: SeenCredential[];
}

export const credentialExposure: Rule<CredentialExposureFacts> = {
  name: 'credential_exposure',
  trigger: 'tool_call.pre',
  stops: false,
  evaluate({ exposed }) {
    if (exposed.length === 0) return allow;
    const list = exposed.map((c) => `${c.kind}${c.file ? ` in ${c.file}` : ''} (sha256:${c.fingerprint})`).join(', ');
    return refuse('access_denied', `the call would show a credential stint did not issue to this task: ${list}`);
  },
};
