import type { SeenCredential } from '../tool-call.js';
import { allow, stop, type Rule } from './types.js';

/**
 * New credentials mid-task: a tool call that uses any credential other than this task's own
 * stint token (a provider token found in a file, another agent's stint token, an AWS key) is a
 * stop, as a substitution presented to the broker is. The facts hold kind + fingerprint only.
 */
export interface CredentialUseFacts {
  credentials: SeenCredential[];
}

export const credentialUse: Rule<CredentialUseFacts> = {
  name: 'credential_use',
  trigger: 'tool_call.pre',
  // Its stop is a substitution: policy governs it under `substitution`.
  stops: false,
  evaluate({ credentials }) {
    if (credentials.length === 0) return allow;
    const list = credentials.map((c) => `${c.kind} (${c.position}${c.file ? ` from ${c.file}` : ''}, sha256:${c.fingerprint})`).join(', ');
    return stop('substitution', `new credentials mid-task: the call uses ${list}, which stint did not issue to this task`);
  },
};
