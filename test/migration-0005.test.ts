import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describe, expect, it } from 'vitest';
import { createApprovalStore } from '../src/adapters/sqlite/approval-store.js';
import { MIGRATIONS_DIR } from '../src/adapters/sqlite/node.js';
import * as schema from '../src/adapters/sqlite/schema.js';
import type { SqliteDb } from '../src/adapters/sqlite/store.js';

describe('migration 0005 (approver keys, console tables)', () => {
  it('moves each existing approver’s JWK to approver_keys and keeps duplicate names apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stint-mig-'));
    try {
      // The migrations folder as it was before 0005.
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8'));
      journal.entries = journal.entries.filter((e: { idx: number }) => e.idx < 5);
      writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
      const sqlite = new Database(':memory:');
      const db = drizzle(sqlite, { schema });
      migrate(db, { migrationsFolder: dir });
      const jwk = (x: string) => JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x });
      const insert = sqlite.prepare('INSERT INTO approvers (id, name, groups, jwk, created_at) VALUES (?, ?, ?, ?, ?)');
      insert.run('apr_1', 'Bob', '["sre"]', jwk('a'), 1);
      insert.run('apr_2', ' bob', '["sre"]', jwk('b'), 2);
      insert.run('apr_3', 'carol', '["sre"]', jwk('c'), 3);

      migrate(db, { migrationsFolder: MIGRATIONS_DIR });
      const store = createApprovalStore(db as unknown as SqliteDb);
      expect((await store.approvers.list()).map((a) => [a.id, a.nameKey])).toEqual([
        ['apr_1', 'bob'],
        ['apr_2', 'bob#apr_2'],
        ['apr_3', 'carol'],
      ]);
      expect(await store.keys.list('apr_2')).toEqual([
        { kid: 'legacy.apr_2', approverId: 'apr_2', kind: 'jwk', jwk: { kty: 'OKP', crv: 'Ed25519', x: 'b' }, publicKey: null, counter: 0, transports: null, createdAt: 2, retiredAt: null },
      ]);
      expect(sqlite.prepare(`SELECT count(*) AS n FROM pragma_table_info('approvers') WHERE name = 'jwk'`).get()).toEqual({ n: 0 });
      sqlite.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
