import { allow, stop, type Rule } from './types.js';
import type { ToolCallRuleFacts } from './tool-call-facts.js';

/**
 * New credentials mid-task: a tool call that uses a credential *value* other than this task's
 * own stint token (a provider token found in a file, another agent's stint token, an AWS key)
 * is a stop, as a substitution presented to the broker is. The facts hold kind + fingerprint
 * only; names and references never reach them (the guard reports literal values only).
 */
export type CredentialUseFacts = Pick<ToolCallRuleFacts, 'credentials'>;

export const credentialUse: Rule<CredentialUseFacts> = {
  name: 'credential_use',
  trigger: 'tool_call.pre',
  // Its stop is a substitution: policy governs it under `substitution`.
  stops: false,
  evaluate({ credentials }) {
    if (credentials.length === 0) return allow;
    // No fingerprint in the answer (see credential-exposure.ts); the audit record keeps them.
    const list = credentials.map((c) => `${c.kind} (${c.position}${c.file ? ` from ${c.file}` : ''})`).join(', ');
    return stop('substitution', `new credentials mid-task: the call uses ${list}, which stint did not issue to this task`);
  },
};
