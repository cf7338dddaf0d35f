import { describe, expect, it } from 'vitest';
import { createSodiumSealer } from '../src/adapters/sealing/libsodium.js';
import { openSqlite } from '../src/adapters/sqlite/node.js';
import { createSqliteStore } from '../src/adapters/sqlite/store.js';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import type { Store } from '../src/core/ports.js';
import { resealAll } from '../src/core/vault.js';

const key = (n: number) => new Uint8Array(32).fill(n);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const stores: [string, () => Store][] = [
  ['better-sqlite3', () => createSqliteStore(openSqlite(':memory:').db)],
  ['memory', createMemoryStore],
];

describe('envelope sealing', () => {
  it('seals with a fresh data key each time and opens only under the master key', async () => {
    const s = await createSodiumSealer(key(1));
    const a = await s.seal(new TextEncoder().encode('secret'));
    const b = await s.seal(new TextEncoder().encode('secret'));
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v2\.[A-Za-z0-9_-]{16}\./);
    expect(text(await s.open(a))).toBe('secret');
    await expect((await createSodiumSealer(key(2))).open(a)).rejects.toThrow();
  });

  it.each(stores)('rotates the master key by re-wrapping data keys only; the old key is then no longer needed (%s)', async (_, make) => {
    const store = make();
    const old = await createSodiumSealer(key(1));
    const sealed = await old.seal(new TextEncoder().encode('aws-root-credentials'));
    await store.secrets.put('aws-root', sealed, 1);
    await store.keys.add({ kid: 'k', alg: 'EdDSA', use: 'task', publicJwk: {}, sealedPrivate: await old.seal(new TextEncoder().encode('{"d":"x"}')), createdAt: 1 });

    const rotating = await createSodiumSealer(key(2), [key(1)]);
    expect(await resealAll(store, rotating, 'task')).toBe(2);
    expect(await resealAll(store, rotating, 'task')).toBe(0); // idempotent
    const after = (await store.secrets.get('aws-root'))!.sealedValue;
    expect(after.split('.')[3]).toBe(sealed.split('.')[3]); // the secret itself was not re-encrypted
    const onlyNew = await createSodiumSealer(key(2));
    expect(text(await onlyNew.open(after))).toBe('aws-root-credentials');
    expect(text(await onlyNew.open((await store.keys.list('task'))[0]!.sealedPrivate))).toBe('{"d":"x"}');
  });

  it('still opens v1 boxes (sealed directly under the master key) and upgrades them on rewrap', async () => {
    const sodium = (await import('libsodium-wrappers')).default;
    await sodium.ready;
    const nonce = sodium.randombytes_buf(24);
    const box = sodium.crypto_secretbox_easy(new TextEncoder().encode('legacy'), nonce, key(3));
    const v1 = `v1.${Buffer.concat([nonce, box]).toString('base64url')}`;
    const s = await createSodiumSealer(key(3));
    expect(text(await s.open(v1))).toBe('legacy');
    expect(await s.rewrap(v1)).toMatch(/^v2\./);
  });
});
