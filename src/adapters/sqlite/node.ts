import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import type { SqliteDb } from './store.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/**
 * Opens (or creates) the SQLite file and brings its schema up to date from migrations/.
 * WAL lets readers run beside the one writer. synchronous=FULL makes every acknowledged
 * write (a revocation, a consumed jti, an audit record) durable before we answer, at the
 * cost of an fsync per commit; NORMAL would survive a process crash but not a power cut.
 */
export function openSqlite(file: string): { db: SqliteDb; sqlite: Database.Database } {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  if (file !== ':memory:') chmodSync(file, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { db: db as unknown as SqliteDb, sqlite };
}
