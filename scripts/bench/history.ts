// The cost of one token exchange as the agent's history grows (issue 23 item 1): the broker
// in-process on a database file, an agent with 1,000 then 100,000 past tasks (each with the
// events a task leaves), the same exchanges timed at both sizes. Prints one table row per size.
//   TASKS=1000,100000  N=300 (exchanges per size)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertion, dpopProof, newKey } from '../../src/client/proofs.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';

const SIZES = (process.env.TASKS ?? '1000,100000').split(',').map(Number);
const N = Number(process.env.N ?? 300);
const WARM = 150;
const ISSUER = 'http://localhost:8787';
const ADMIN = `bench-${crypto.randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'stint-history-'));

const broker = await createNodeBroker({
  dbPath: join(dir, 'stint.db'),
  policy: loadPolicyDir(fileURLToPath(new URL('../../policies', import.meta.url))),
  issuer: ISSUER,
  adminToken: ADMIN,
  masterKey: crypto.getRandomValues(new Uint8Array(32)),
  rateLimit: false,
});
try {
  const req = (path: string, init: RequestInit) => broker.app.request(`${ISSUER}${path}`, init);
  const key = await newKey();
  const reg = await req('/v1/agents', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'history', owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] }),
  });
  const { client_id: clientId } = (await reg.json()) as { client_id: string };
  const dpop = await newKey();
  const token = async (params: Record<string, string>) => {
    const now = Math.floor(Date.now() / 1000);
    const body = new URLSearchParams({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(key, clientId, ISSUER, { nowSec: now, ttl: 280 }),
      ...params,
    });
    return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(dpop, 'POST', `${ISSUER}/token`, { nowSec: now }) }, body };
  };
  const opened = await req('/token', await token({ grant_type: 'client_credentials', authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'history bench' }]) }));
  const taskToken = ((await opened.json()) as { access_token: string }).access_token;
  const exchange = { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: taskToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'config.read' };

  // Past tasks, written straight to the tables (what months of `open a task` leave).
  const sqlite = broker.sqlite;
  const addTask = sqlite.prepare(
    `INSERT INTO tasks (id, agent_id, template, environment, purpose, jkt, status, status_reason, created_at, expires_at) VALUES (?, ?, 'fix-credentials', 'staging', 'p', 'old', 'completed', NULL, ?, ?)`,
  );
  const addEvent = sqlite.prepare(`INSERT INTO task_events (task_id, agent_id, at, kind, detail) VALUES (?, ?, ?, ?, '{}')`);
  const old = Date.now() - 30 * 86_400_000;
  let have = 0;
  const grow = (to: number) =>
    sqlite.transaction(() => {
      for (; have < to; have++) {
        const id = `tsk_past_${have}`;
        addTask.run(id, clientId, old, old + 600_000);
        for (const [i, kind] of (['opened', 'grant', 'denial', 'complete'] as const).entries()) addEvent.run(id, clientId, old + i, kind);
      }
    })();

  const windowNow = sqlite.prepare('SELECT task_id, at, kind, detail FROM task_events WHERE agent_id = ? AND kind IN (?, ?, ?) AND at >= ? ORDER BY id LIMIT 1000');
  const windowBefore = sqlite.prepare(
    'SELECT task_id, at, kind, detail FROM task_events WHERE task_id IN (SELECT id FROM tasks WHERE agent_id = ?) AND kind IN (?) AND at >= ? ORDER BY id LIMIT 1000',
  );
  const rows: string[] = [];
  for (const size of SIZES) {
    grow(size);
    sqlite.pragma('optimize');
    const signed = await Promise.all(Array.from({ length: N + WARM }, () => token(exchange)));
    for (const r of signed.splice(0, WARM)) await req('/token', r); // warm-up
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lat: number[] = [];
    for (const r of signed) {
      const s = performance.now();
      const res = await req('/token', r);
      if (res.status !== 200) throw new Error(`exchange: ${res.status} ${await res.text()}`);
      lat.push(performance.now() - s);
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    lat.sort((a, b) => a - b);
    const us = (ms: number) => `${Math.round(ms * 1000).toLocaleString('en')} µs`;
    // The agent's window read alone, as it is now and in its earlier form (a probe per past task).
    const since = Date.now() - 3_600_000;
    const time = (stmt: { all(...a: unknown[]): unknown }, args: unknown[]) => {
      stmt.all(...args);
      const s = performance.now();
      let i = 0;
      while (i < 20 && (i < 2 || performance.now() - s < 200)) (stmt.all(...args), i++);
      return (performance.now() - s) / i;
    };
    const now = time(windowNow, [clientId, 'denial', 'denial', 'denial', since]);
    const before = time(windowBefore, [clientId, 'denial', since]);
    rows.push(`| ${size.toLocaleString('en')} | ${us(wall / N)} | ${us(lat[Math.floor(N / 2)]!)} | ${us(lat[Math.floor(N * 0.99)]!)} | ${Math.round((cpu.user + cpu.system) / N).toLocaleString('en')} µs | ${us(now)} | ${us(before)} |`);
  }
  console.log(`| past tasks of the agent (${N} sequential exchanges in-process, no HTTP socket) | mean | p50 | p99 | CPU per exchange (all threads) | the agent's window read (index on agent, kind, at) | the same read before (a probe per past task) |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`);
} finally {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
