import type { ApprovalGateway } from './approval-gateway.js';
import type { AuditLog } from './audit.js';
import type { CredentialProvider } from './providers/types.js';
import type { KeyRing } from './keys.js';
import type { Policy } from './policy.js';
import type { EventHub } from './events.js';
import type { Fingerprinter } from './fingerprints.js';
import type { Clock, Sealer, Store } from './ports.js';
import type { AnyRule } from './rules/registry.js';

/** Everything a core operation needs, wired once per runtime and read-only from then on. */
export interface Core {
  readonly issuer: string;
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: Policy;
  readonly keys: KeyRing;
  /** Seals secrets at rest; only the vault and key loading use it. */
  readonly sealer: Sealer;
  readonly audit: AuditLog;
  /** Keys a credential's digest into the fingerprint that is recorded (core/fingerprints.ts). */
  readonly fingerprint: Fingerprinter;
  /** The rules enforced (core/rules/registry.ts); a test may add one. */
  readonly rules: readonly AnyRule[];
  readonly events: EventHub;
  /** The isolated approval service; without it destructive capabilities cannot be had at all. */
  readonly approvals?: ApprovalGateway;
  /** Credential providers by `type` (AWS STS, …), for capabilities that are real credentials elsewhere. */
  readonly providers: ReadonlyMap<string, CredentialProvider>;
}

/** Where the broker's token endpoint lives; a client assertion's `aud` may name it or the issuer. */
export const tokenEndpoint = (issuer: string) => `${issuer}/token`;
