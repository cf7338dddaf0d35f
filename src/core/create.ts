import type { ApprovalGateway } from './approval-gateway.js';
import type { CredentialProvider } from './providers/types.js';
import { AuditLog } from './audit.js';
import type { Core } from './context.js';
import { KeyRing, type SignerFactory } from './keys.js';
import type { Policy } from './policy.js';
import { EventHub } from './events.js';
import { fingerprinter, loadFingerprintKey } from './fingerprints.js';
import { systemClock, type Clock, type Sealer, type Store } from './ports.js';
import { guardStore } from './store-guard.js';
import { resealAll } from './vault.js';
import { DEFAULT_RULES, type AnyRule } from './rules/registry.js';

export interface CoreOptions {
  issuer: string;
  store: Store;
  sealer: Sealer;
  policy: Policy;
  clock?: Clock;
  events?: EventHub;
  /** The approval service, or how to reach it once the broker's keys are loaded (calls are signed by them). */
  approvals?: ApprovalGateway | ((keys: KeyRing, clock: Clock, issuer: string) => ApprovalGateway);
  /** Credential providers (AWS STS, …) for capabilities that are real credentials elsewhere. */
  providers?: CredentialProvider[];
  /** How tokens are signed (default WebCrypto). */
  signer?: SignerFactory;
  /** The rules enforced (default: every rule of the registry). */
  rules?: readonly AnyRule[];
  /** The fingerprint key (default: the deployment's, from the store; `stint replay` fixes one). */
  fingerprintKey?: Uint8Array;
}

/** Wires the core from its ports; loads (or on first start, generates) the signing key. */
export async function createCore(o: CoreOptions): Promise<Core> {
  const clock = o.clock ?? systemClock;
  const store = guardStore(o.store);
  await resealAll(store, o.sealer, 'task');
  const keys = await KeyRing.load(store, o.sealer, 'task', clock, o.signer);
  const fingerprint = fingerprinter(o.fingerprintKey ?? (await loadFingerprintKey(store, o.sealer, clock)));
  const events = o.events ?? new EventHub();
  const issuer = o.issuer.replace(/\/+$/, '');
  return {
    issuer,
    store,
    clock,
    policy: o.policy,
    keys,
    sealer: o.sealer,
    audit: new AuditLog(store, clock, events, keys),
    fingerprint,
    rules: o.rules ?? DEFAULT_RULES,
    events,
    approvals: typeof o.approvals === 'function' ? o.approvals(keys, clock, issuer) : o.approvals,
    providers: new Map((o.providers ?? []).map((p) => [p.type, p])),
  };
}
