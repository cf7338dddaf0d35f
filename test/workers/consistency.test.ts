import { env, SELF } from 'cloudflare:test';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import * as schema from '../../src/adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../src/adapters/sqlite/store.js';
import { assertion, dpopProof, newKey } from '../../src/client/proofs.js';

// The consistency Workers need, on the design stint uses there: every status change and every
// single use is one guarded statement at D1's primary (stint does not use read replicas), so
// the next request anywhere sees it, and concurrent consumers have one winner.
const ISSUER = 'http://localhost:8787';
const ADMIN = 'workers-admin-token-0123456789';
const now = () => Math.floor(Date.now() / 1000);
const post = (path: string, body: unknown) =>
  SELF.fetch(`${ISSUER}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const introspect = async (token: string) =>
  ((await (await SELF.fetch(`${ISSUER}/introspect`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) })).json()) as any).active;

describe('consistency on Workers', () => {
  it('a revocation is visible to the very next request', async () => {
    const key = await newKey();
    const dpop = await newKey();
    const { client_id } = (await (await post('/v1/agents', { name: 'c', owner: 'o', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] })).json()) as any;
    const res = await SELF.fetch(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(dpop, 'POST', `${ISSUER}/token`, { nowSec: now() }) },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(key, client_id, ISSUER, { nowSec: now() }),
        authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'c' }]),
      }),
    });
    const task = (await res.json()) as any;
    expect(await introspect(task.access_token)).toBe(true);
    expect((await post('/v1/revocations', { environment: 'staging' })).status).toBe(200);
    expect(await introspect(task.access_token)).toBe(false);
  });

  it('50 concurrent consumers of one single-use grant: exactly one wins', async () => {
    const store = createSqliteStore(drizzle((env as any).DB, { schema }) as unknown as SqliteDb);
    const jti = crypto.randomUUID();
    const wins = await Promise.all(Array.from({ length: 50 }, () => store.replay.consume('grant', jti, Date.now() + 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });
});
