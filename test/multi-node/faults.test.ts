import { afterAll, describe, expect, it } from 'vitest';
import { OperatorClient } from '../../src/client/operator.js';
import { createNodeBrokerOnPostgres } from '../../src/runtime/node/wire-pg.js';
import { defaultPolicy } from '../helpers/policy.js';
import { PG_TEST_URL, postgresAvailable } from '../helpers/postgres.js';
import { relay } from './relay.js';
import pg from 'pg';

// A node cut off from the database refuses what needs a decision (503 temporarily_unavailable,
// with Retry-After), never answers from what it knew, and is current again once it can read.
const available = await postgresAvailable();
const ISSUER = 'http://localhost:8787';
const ADMIN = 'faults-admin-token-0123456789';

describe.runIf(available)('a node that cannot confirm it is current', () => {
  const schema = `stint_f_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    const admin = new pg.Client({ connectionString: PG_TEST_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('answers 503 temporarily_unavailable with Retry-After while cut off, and recovers', async () => {
    const target = new URL(PG_TEST_URL);
    const r = await relay(target);
    cleanups.push(r.close);
    const via = new URL(PG_TEST_URL);
    via.port = String(r.port);
    via.hostname = '127.0.0.1';
    via.searchParams.set('schema', schema);
    const node = await createNodeBrokerOnPostgres({ databaseUrl: via.toString(), policy: defaultPolicy(), issuer: ISSUER, adminToken: ADMIN, masterKey: new Uint8Array(32).fill(7), rateLimit: false, pollMs: 50 });
    cleanups.push(() => node.close());
    const f = ((url: string, init?: RequestInit) => node.app.request(url, init)) as typeof fetch;
    const op = new OperatorClient(ISSUER, ADMIN, { fetch: f });
    const agent = await op.agent('bot', 'alice', ['fix-credentials']);
    const task = await agent.openTask('fix-credentials', 'staging', 'p');
    expect(task.status).toBe(200);
    const cap = await agent.exchange(task.body.access_token, 'config.read');
    expect(cap.status).toBe(200);

    r.cut();
    // Every decision now fails closed: no token, no "active".
    await expect.poll(async () => (await agent.openTask('fix-credentials', 'staging', 'p')).status, { timeout: 10_000 }).toBe(503);
    const refused = await node.app.request(`${ISSUER}/token`, { method: 'POST' });
    expect([400, 401, 503]).toContain(refused.status);
    const exchange = await agent.exchange(task.body.access_token, 'config.read');
    expect(exchange.status).toBe(503);
    expect(exchange.body.error).toBe('temporarily_unavailable');
    const res = await node.app.request(`${ISSUER}/introspect`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: cap.body.access_token }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Readiness says why, once the last read of the log is older than 2 s.
    await expect.poll(async () => ((await (await node.app.request(`${ISSUER}/readyz`)).json()) as { checks: Record<string, string> }).checks.current, { timeout: 10_000 }).toMatch(/last read/);

    r.restore();
    await expect.poll(async () => (await agent.exchange(task.body.access_token, 'config.read')).status, { timeout: 15_000, interval: 200 }).toBe(200);
    await expect.poll(async () => ((await (await node.app.request(`${ISSUER}/readyz`)).json()) as { checks: Record<string, string> }).checks.current, { timeout: 10_000 }).toBe('ok');
  }, 60_000);
});

if (!available) describe.skip('a node that cannot confirm it is current (no server)', () => it('needs PostgreSQL', () => undefined));
