import type { ApprovalGateway } from './approval-gateway.js';
import { AuditLog } from './audit.js';
import type { Core } from './context.js';
import { KeyRing, type SignerFactory } from './keys.js';
import type { Policy } from './policy.js';
import { EventHub } from './events.js';
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
  approvals?: ApprovalGateway;
  /** How tokens are signed (default WebCrypto). */
  signer?: SignerFactory;
  /** The rules enforced (default: every rule of the registry). */
  rules?: readonly AnyRule[];
}

/** Wires the core from its ports; loads (or on first start, generates) the signing key. */
export async function createCore(o: CoreOptions): Promise<Core> {
  const clock = o.clock ?? systemClock;
  const store = guardStore(o.store);
  await resealAll(store, o.sealer, 'task');
  const keys = await KeyRing.load(store, o.sealer, 'task', clock, o.signer);
  const events = o.events ?? new EventHub();
  return {
    issuer: o.issuer.replace(/\/+$/, ''),
    store,
    clock,
    policy: o.policy,
    keys,
    sealer: o.sealer,
    audit: new AuditLog(store, clock, events),
    rules: o.rules ?? DEFAULT_RULES,
    events,
    approvals: o.approvals,
  };
}
