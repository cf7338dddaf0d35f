import { describe, expect, it } from 'vitest';
import { openSqlite } from '../src/adapters/sqlite/node.js';
import { GroupCommit } from '../src/adapters/sqlite/group-commit.js';
import { withNativeHotPaths } from '../src/adapters/sqlite/node-hot.js';
import { createSqliteStore } from '../src/adapters/sqlite/store.js';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import { storeContract } from './contract/store.js';

storeContract('memory', createMemoryStore);
storeContract('drizzle (better-sqlite3)', () => createSqliteStore(openSqlite(':memory:').db));
storeContract('drizzle + native hot paths', () => {
  const { db, sqlite } = openSqlite(':memory:');
  return withNativeHotPaths(createSqliteStore(db), sqlite, new GroupCommit(sqlite));
});

describe('RFC 7638 thumbprints computed synchronously', () => {
  it('equal jose’s for Ed25519 and P-256 keys', async () => {
    const { thumbprintOf } = await import('../src/core/jwk-cache.js');
    const { newKey } = await import('../src/client/proofs.js');
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const k = await newKey(alg);
      expect(thumbprintOf(k.publicJwk)).toBe(k.jkt);
    }
  });
});

describe('group commit', () => {
  it('answers only after the commit; a failed commit rejects and rolls back', async () => {
    const { db, sqlite } = openSqlite(':memory:');
    const group = new GroupCommit(sqlite);
    const s = withNativeHotPaths(createSqliteStore(db), sqlite, group);
    expect(await s.replay.consume('n', 'a', 10)).toBe(true);
    expect(sqlite.inTransaction).toBe(true);
    await s.flush();
    expect(sqlite.inTransaction).toBe(false);

    let rolledBack = 0;
    group.onRollback(() => rolledBack++);
    expect(await s.replay.consume('n', 'b', 10)).toBe(true);
    // Make the commit fail: a deferred foreign-key-style failure is simplest as a trigger on COMMIT's work.
    sqlite.pragma('foreign_keys = ON');
    sqlite.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY); CREATE TABLE child (p TEXT REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);`);
    sqlite.exec(`INSERT INTO child VALUES ('missing')`);
    await expect(s.flush()).rejects.toThrow();
    expect(rolledBack).toBe(1);
    expect(await s.replay.consume('n', 'b', 10)).toBe(true); // the rolled-back consume is gone
  });
});

describe('WAL checkpoints', () => {
  it('run off the main thread: the database file takes in committed pages with no checkpoint called here', async () => {
    const { mkdtempSync, statSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'stint-ckpt-'));
    const file = join(dir, 'c.db');
    const { sqlite, close } = openSqlite(file);
    try {
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(2000);
      sqlite.exec('CREATE TABLE filler (b BLOB)');
      const before = statSync(file).size;
      // ≈1 MiB: about 260 pages, under the backstop's threshold.
      sqlite.prepare('INSERT INTO filler VALUES (?)').run(Buffer.alloc(1 << 20, 7));
      const deadline = Date.now() + 5000;
      while (statSync(file).size < before + (1 << 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(statSync(file).size).toBeGreaterThanOrEqual(before + (1 << 20));
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
