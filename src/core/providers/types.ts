import type { Core } from '../context.js';
import type { CapabilityPolicy } from '../policy.js';
import type { AgentRecord, TaskRecord } from '../ports.js';
import type { RevocationScope } from '../scope.js';

/**
 * A credential provider: a capability that is a real credential of another system (an AWS STS
 * session today). The token endpoint renders what `issue` returns, whatever the provider; the
 * broker tells it when a task ends (`revokeTask`) or a scope is revoked (`revokeScope`), since
 * such credentials usually cannot be recalled one by one and need a provider-side deny.
 */
export interface CredentialProvider {
  /** The `provider.type` that names it in policy. */
  type: string;
  /** The RFC 8693 `issued_token_type` of what it issues (and the `requested_token_type` that asks for it). */
  issuedTokenType: string;
  issue(core: Core, req: { agent: AgentRecord; task: TaskRecord; capability: CapabilityPolicy }): Promise<ProviderIssue>;
  revokeTask(core: Core, taskId: string): Promise<void>;
  /** A scope revoked at `epoch` (ms). */
  revokeScope(core: Core, scope: RevocationScope, epoch: number): Promise<void>;
}

export interface ProviderIssue {
  /** RFC 8693's `access_token` member: the credential's main secret or handle. */
  accessToken: string;
  expiresIn: number;
  /** Provider-specific members of the response (e.g. `aws: {access_key_id, …}`). */
  fields: Record<string, unknown>;
}
