import type { ApprovalGateway } from './approval-gateway.js';
import type { AuditLog } from './audit.js';
import type { AwsProvider } from './aws.js';
import type { KeyRing } from './keys.js';
import type { Policy } from './policy.js';
import type { EventHub } from './events.js';
import type { Clock, Sealer, Store } from './ports.js';
import type { AnyRule } from './rules/registry.js';

/** Everything a core operation needs, wired once per runtime. */
export interface Core {
  issuer: string;
  store: Store;
  clock: Clock;
  policy: Policy;
  keys: KeyRing;
  /** Seals secrets at rest; only the vault and key loading use it. */
  sealer: Sealer;
  audit: AuditLog;
  /** The rules enforced (core/rules/registry.ts); a test may add one. */
  rules: readonly AnyRule[];
  events: EventHub;
  /** The isolated approval service; without it destructive capabilities cannot be had at all. */
  approvals?: ApprovalGateway;
  /** AWS STS/IAM, for capabilities that map to AWS credentials. */
  aws?: AwsProvider;
}

/** Where the broker's token endpoint lives; a client assertion's `aud` may name it or the issuer. */
export const tokenEndpoint = (issuer: string) => `${issuer}/token`;
