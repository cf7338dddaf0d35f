import { env, SELF } from 'cloudflare:test';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import * as schema from '../../src/adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../src/adapters/sqlite/store.js';
import { ADMIN, admin, ISSUER, openTask } from './open-task.js';

// The consistency Workers need, on the design stint uses there: every status change and every
// single use is one guarded statement at D1's primary (stint does not use read replicas), so
// the next request anywhere sees it, and concurrent consumers have one winner.
const introspect = async (token: string) =>
  ((await (await SELF.fetch(`${ISSUER}/introspect`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) })).json()) as any).active;

describe('consistency on Workers', () => {
  it('a revocation is visible to the very next request', async () => {
    const task = await openTask('c');
    expect(await introspect(task.access_token)).toBe(true);
    expect((await admin('/v1/revocations', { environment: 'staging' })).status).toBe(200);
    expect(await introspect(task.access_token)).toBe(false);
  });

  it('50 concurrent consumers of one single-use grant: exactly one wins', async () => {
    const store = createSqliteStore(drizzle((env as any).DB, { schema }) as unknown as SqliteDb);
    const jti = crypto.randomUUID();
    const wins = await Promise.all(Array.from({ length: 50 }, () => store.replay.consume('grant', jti, Date.now() + 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});
