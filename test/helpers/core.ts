import { createMemoryStore } from '../../src/adapters/memory/store.js';
import { createNobleSealer } from '../../src/adapters/sealing/noble.js';
import type { ApprovalGateway } from '../../src/core/approval-gateway.js';
import type { Core } from '../../src/core/context.js';
import type { CredentialProvider } from '../../src/core/providers/types.js';
import { createCore } from '../../src/core/create.js';
import type { Policy } from '../../src/core/policy.js';
import type { Store } from '../../src/core/ports.js';
import { FrozenClock } from './clock.js';
import { defaultPolicy } from './policy.js';

export const CORE_ISSUER = 'http://localhost:8787';

/**
 * A core on the in-memory reference store, pure-JS sealing and WebCrypto signing: no native
 * module, no database file, a frozen clock. For tests of core operations that need a store but
 * no HTTP; `store` is the raw store (the core's own is wrapped by the store guard).
 */
export async function memoryCore(o: { clock?: FrozenClock; policy?: Policy; approvals?: ApprovalGateway; providers?: CredentialProvider[]; store?: Store } = {}): Promise<{ core: Core; store: Store; clock: FrozenClock }> {
  const clock = o.clock ?? new FrozenClock();
  const store = o.store ?? createMemoryStore();
  const core = await createCore({ issuer: CORE_ISSUER, store, sealer: createNobleSealer(new Uint8Array(32).fill(1)), policy: o.policy ?? defaultPolicy(), clock, approvals: o.approvals, providers: o.providers });
  return { core, store, clock };
}
