import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { startCheckpointer } from './checkpointer.js';
import * as schema from './schema.js';
import type { SqliteDb } from './store.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/**
 * Opens (or creates) the SQLite file and brings its schema up to date from migrations/.
 * WAL lets readers run beside the one writer. With synchronous=NORMAL every commit is in the
 * WAL file before the statement returns, so an acknowledged write (a revocation, a consumed
 * jti, an audit record) survives the process being killed at any point; only an OS crash or
 * power cut can lose the last commits before a checkpoint. `STINT_DB_SYNC=full` closes that
 * window too, at the cost of an fsync per commit (measured: ≈3 ms on this machine's disk).
 * Checkpoints, with their fsyncs, run on a worker thread rather than inside a commit.
 */
export function openSqlite(file: string, sync: 'normal' | 'full' = 'normal'): { db: SqliteDb; sqlite: Database.Database; close: () => Promise<void> } {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  if (file !== ':memory:') chmodSync(file, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  if (file === ':memory:') return { db: db as unknown as SqliteDb, sqlite, close: async () => void sqlite.close() };
  // Checkpoints run on a worker thread (checkpointer.ts). Under sustained writes the WAL
  // never becomes fully copied at the moment a transaction starts, so it is never reset and
  // grows; SQLite's own checkpoint, at twice its default threshold (≈8 MB), then runs between
  // two commits, copies what the worker has not yet and resets it: an fsync or two on the main
  // thread (2–12 ms here). A higher threshold makes that rarer (at 500 req/s: 5–13 such
  // commits in 10 s at 10,000 pages, 29–30 at 2,000), but a worker starved of CPU can leave the
  // whole threshold to copy (one bench run at 10,000 had a 145 ms p99); this bounds it.
  sqlite.pragma('wal_autocheckpoint = 2000');
  const stopCheckpointer = startCheckpointer(file);
  return {
    db: db as unknown as SqliteDb,
    sqlite,
    close: async () => {
      await stopCheckpointer();
      sqlite.close();
    },
  };
}
