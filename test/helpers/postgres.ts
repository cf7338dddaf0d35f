import pg from 'pg';
import { openPostgres, type OpenedPostgres } from '../../src/adapters/postgres/node.js';

/**
 * The PostgreSQL server the tests use: STINT_TEST_DATABASE_URL, by default the one this machine
 * and CI run on 127.0.0.1:5432 (trust authentication, database `test`). Every test run works in
 * schemas or databases of its own with random names, dropped afterwards, so runs in parallel
 * never meet.
 */
export const PG_TEST_URL = process.env.STINT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether the server answers. Where it does not, the suites say so loudly and are skipped on a
 * developer's machine; in CI (CI=true) they fail instead, so a missing server is never a green run.
 */
export async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (e) {
    const msg = `\n!!! PostgreSQL is not reachable at ${PG_TEST_URL} (${(e as Error).message}): the PostgreSQL suites ${process.env.CI ? 'FAIL (CI)' : 'are SKIPPED'} !!!\n`;
    console.error(msg);
    if (process.env.CI) throw new Error(msg);
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const randomName = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;

/**
 * Schemas of the test database (`?schema=`) with random names, and how to drop every one made.
 * `fresh()` empties the current schema's tables (much faster than migrating a new schema for each
 * test) and hands back its store connection.
 */
export function pgSchemas() {
  const made: { name: string; opened: OpenedPostgres[] }[] = [];
  return {
    /** A fresh schema; the previous one's pool is closed (the server's connections are shared). */
    async open(): Promise<OpenedPostgres> {
      for (const m of made) for (const o of m.opened.splice(0)) await o.close().catch(() => undefined);
      const name = randomName('stint_t');
      const opened = await openPostgres(`${PG_TEST_URL}?schema=${name}`, { max: 5 });
      made.push({ name, opened: [opened] });
      return opened;
    },
    async fresh(): Promise<OpenedPostgres> {
      const current = made.at(-1)?.opened[0];
      if (!current) return this.open();
      const { rows } = await current.pool.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = $1`, [current.schema]);
      // DELETE, not TRUNCATE: on tables this small it is several times faster (no new files).
      await current.pool.query(rows.map((r) => `DELETE FROM ${r.t};`).join(' '));
      return current;
    },
    async dropAll() {
      const admin = new pg.Client({ connectionString: PG_TEST_URL });
      await admin.connect();
      try {
        for (const m of made.splice(0)) {
          for (const o of m.opened) await o.close().catch(() => undefined);
          await admin.query(`DROP SCHEMA IF EXISTS "${m.name}" CASCADE`);
        }
      } finally {
        await admin.end();
      }
    },
  };
}

/** A fresh database on the test server (the multi-node tests: several processes, one database). */
export async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = randomName('stint_db');
  const admin = new pg.Client({ connectionString: PG_TEST_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(PG_TEST_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_TEST_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
