import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { groupFlush } from './durability.js';
import * as schema from './schema.js';
import type { PgDb } from './store.js';

export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/pg', import.meta.url));

/**
 * How long any one statement may take before the caller is told the store is unavailable
 * (a 503 `temporarily_unavailable`, nothing issued): a node that cannot read the current state
 * within this refuses rather than waits or guesses. Also the connection timeout.
 */
export const PG_DECISION_TIMEOUT_MS = 2_000;

/** Any `postgres://` or `postgresql://` URL. */
export const isPostgresUrl = (url: string | undefined): url is string => !!url && /^postgres(ql)?:\/\//i.test(url);

export interface OpenedPostgres {
  db: PgDb;
  pool: pg.Pool;
  /** The connection settings (for the node's own LISTEN connection). */
  config: pg.ClientConfig;
  /** The schema the tables live in (`?schema=` on the URL), or undefined for the search path's. */
  schema?: string;
  /** Makes every write completed so far durable (durability.ts); the stores' `flush`. */
  flush: () => Promise<void>;
  /** Makes every commit of any session so far durable; the stores' `barrier`. */
  barrier: () => Promise<void>;
  close: () => Promise<void>;
}

/**
 * Connects a pool to `url` and brings the schema up to date from migrations/pg. `?schema=name`
 * on the URL (the one parameter stint reads itself) puts the tables in that schema, created if
 * missing, so that the broker and the approval service can share one database. Migrations,
 * and whatever `underLock` does (a first start generating the signing key), run under a
 * session advisory lock, so that nodes starting together do it once, one after the other.
 */
export async function openPostgres(url: string, o: { timeoutMs?: number; max?: number; underLock?: (db: PgDb, config: pg.ClientConfig, durability: { flush: () => Promise<void>; barrier: () => Promise<void> }) => Promise<void> } = {}): Promise<OpenedPostgres> {
  const u = new URL(url);
  const schemaName = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schemaName !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schemaName)) throw new Error('the schema parameter must be a plain SQL identifier');
  const timeout = o.timeoutMs ?? PG_DECISION_TIMEOUT_MS;
  const config: pg.ClientConfig = {
    connectionString: u.toString(),
    connectionTimeoutMillis: timeout,
    keepAlive: true,
    application_name: 'stint',
    ...(schemaName ? { options: `-c search_path=${schemaName}` } : {}),
  };
  // The pool's statements commit asynchronously and answers wait for a group flush (durability.ts);
  // the migrations' own connection below keeps the server's setting.
  const options = [config.options, '-c synchronous_commit=off'].filter(Boolean).join(' ');
  const pool = new pg.Pool({ ...config, options, max: o.max ?? 10, query_timeout: timeout, idleTimeoutMillis: 30_000 });
  const { flush, barrier } = groupFlush(pool);
  // An idle connection that breaks (the server restarted) is dropped by the pool and replaced
  // on next use; without a listener the error would end the process.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema }) as unknown as PgDb;
  try {
    // Migrations may take longer than a decision: their own connection, without the timeout.
    const setup = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
    await setup.connect();
    try {
      await setup.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
      if (schemaName) await setup.query(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"`);
      await migrate(drizzle(setup, { schema }), { migrationsFolder: PG_MIGRATIONS_DIR, migrationsSchema: schemaName ?? 'drizzle' });
      await o.underLock?.(db, config, { flush, barrier });
      await flush(); // what a first start made (the signing key) is durable before other nodes may use it
    } finally {
      await setup.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK]).catch(() => undefined);
      await setup.end().catch(() => undefined);
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return { db, pool, config, schema: schemaName, flush, barrier, close: () => pool.end() };
}

/** The advisory lock key start-up holds (any 64-bit number unlikely to collide: "stint" in ASCII). */
const STARTUP_LOCK = 0x7374696e74;
