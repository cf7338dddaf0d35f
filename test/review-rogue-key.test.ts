import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import { createNobleSealer } from '../src/adapters/sealing/noble.js';
import { signCheckpoint } from '../src/core/audit-checkpoint.js';
import { KeyRing } from '../src/core/keys.js';
import type { Store } from '../src/core/ports.js';
import { createBroker } from '../src/service/broker.js';
import { FrozenClock } from './helpers/clock.js';
import { defaultPolicy } from './helpers/policy.js';

/**
 * Review (second pass), area 2: someone who can write the database but does not hold
 * STINT_MASTER_KEY adds a signing-key row of their own (their public JWK, a copy of the broker's own
 * sealed private half, an old created_at so that the broker's own key stays the newest and still signs).
 * The key ring trusted every row's public half, so after the next start that key's checkpoints
 * verified (history pruned at will, `stint audit verify` ok) and the key was in the JWKS (tokens
 * of theirs accepted). A key whose private half does not open under the master key is not the
 * broker's.
 */
const RETENTION = { tasksMs: 0, auditMs: 0 };
const start = (store: Store, clock: FrozenClock) =>
  createBroker({ issuer: 'http://localhost:8787', store, sealer: createNobleSealer(new Uint8Array(32).fill(1)), policy: defaultPolicy(), adminToken: 'x'.repeat(20), clock, retention: RETENTION });

describe('review: a key row written into the database', () => {
  it('does not make its checkpoints or its tokens the broker’s', async () => {
    const clock = new FrozenClock();
    const store = createMemoryStore();
    const s = await start(store, clock);
    for (let i = 0; i < 20; i++) await s.core.audit.append({ type: i === 7 ? 'token.revoked' : 'test.event', actor: 'tester', data: { i } });

    // The attacker's key, made elsewhere; its row copied in with a date older than the broker's key.
    const elsewhere = createMemoryStore();
    const rogue = await KeyRing.load(elsewhere, createNobleSealer(new Uint8Array(32).fill(9)), 'task', clock);
    const [row] = await elsewhere.keys.list('task');
    // Its sealed half is a copy of the broker's own (which does open, under the broker's master key).
    const [genuine] = await store.keys.list('task');
    await store.keys.add({ ...row!, sealedPrivate: genuine!.sealedPrivate, createdAt: 0 });

    const restarted = await start(store, clock);
    expect(restarted.core.keys.kid).toBe(s.core.keys.kid); // the broker's key still signs
    expect(restarted.core.keys.publicKey(rogue.kid)).toBeUndefined();
    expect(restarted.core.keys.publicJwks().map((k) => k.kid)).not.toContain(rogue.kid);

    // History up to and including the revocation (record 8) is cut under a checkpoint by that key.
    const records = await store.audit.list(0, 100);
    await store.audit.addCheckpoint(await signCheckpoint(rogue, restarted.core.issuer, records[9]!, clock.now()), 16);
    await store.audit.prune(10, 1000);
    expect(await restarted.core.audit.verify()).toMatchObject({ ok: false, reason: 'the checkpoint is signed by a key the broker does not have' });
  });
});
