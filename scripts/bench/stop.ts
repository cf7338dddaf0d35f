// Stop and revocation latency on loopback (issue 3's figures):
//  - substitution reported → the presenting task's tokens inactive at introspection
//  - substitution reported → a subscribed verifier rejecting them
//  - revoking an environment that holds 100,000 live capability tokens
// Run: npm run bench:stop  (RUNS=1000 LIVE=100000 by default)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatorClient } from '../../src/client/operator.js';
import { exchangeForCapability } from '../../src/core/exchange.js';
import { openTask } from '../../src/core/tasks.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { listen } from '../../src/runtime/node/serve.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { StintVerifier } from '../../src/verify/index.js';
import { ms, summary } from './stats.js';

const RUNS = Number(process.env.RUNS ?? 1000);
const LIVE = Number(process.env.LIVE ?? 100_000);
const ADMIN = `bench-${crypto.randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'stint-bench-'));
const port = await freePort();
const issuer = `http://127.0.0.1:${port}`;
const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir('policies'), issuer, adminToken: ADMIN, masterKey: crypto.getRandomValues(new Uint8Array(32)), rateLimit: false });
const server = await listen(broker.app, '127.0.0.1', port);
const op = new OperatorClient(issuer, ADMIN);
const CONFIG = 'https://api.staging.example/config';

const rs = await op.resource('config', CONFIG);
const verifier = new StintVerifier({ issuer, audience: CONFIG, environment: 'staging', clientId: rs.client_id, clientSecret: rs.client_secret });
await verifier.start();
const heardStop = new Map<string, (t: number) => void>();
verifier.onEvent((e) => {
  const taskId = (e as { task_id?: string }).task_id;
  if (e.type === 'task.stopped' && taskId) heardStop.get(taskId)?.(performance.now());
});
const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;

// The leaked credential: a victim's capability token.
const victim = await op.agent('victim', 'carol', ['fix-credentials']);
const vt = await victim.openTask('fix-credentials', 'staging', 'victim');
const leaked = (await victim.exchange(vt.body.access_token, 'config.read')).body.access_token as string;

console.error(`preparing ${RUNS} presenting tasks…`);
const presenters = [];
for (let i = 0; i < RUNS; i++) {
  const a = await op.agent(`thief-${i}`, 'mallory', ['fix-credentials']);
  const t = await a.openTask('fix-credentials', 'staging', 'x');
  const c = await a.exchange(t.body.access_token, 'config.read');
  presenters.push({ a, taskId: t.body.task_id as string, cap: c.body.access_token as string, req: await a.request(CONFIG, c.body.access_token, { method: 'POST' }) });
}

const toIntrospection: number[] = [];
const toVerifier: number[] = [];
for (const p of presenters) {
  // What the resource service just received from the thief: the victim's token with a proof by
  // the thief's own key (made now: a proof is good for 60 s, and a service reports at once).
  const presented = await p.a.request(CONFIG, leaked, { method: 'POST' });
  const evidence = { token: leaked, dpop: presented.headers.get('dpop')!, htm: 'POST', htu: CONFIG };
  const heard = new Promise<number>((r) => heardStop.set(p.taskId, r));
  const t0 = performance.now();
  const res = await fetch(`${issuer}/v1/signals`, {
    method: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/json' },
    // As a resource service reports it (CONTRACT.md, /v1/signals): the token, the DPoP proof exactly as received, htm, htu.
    body: JSON.stringify({ type: 'credential_substitution', ...evidence, detail: 'DPoP key mismatch' }),
  });
  if (res.status !== 202) throw new Error(`signal refused: ${res.status} ${await res.text()}`);
  const answer = (await res.json()) as { stopped_tasks?: string[] };
  if (!answer.stopped_tasks?.includes(p.taskId)) throw new Error(`signal stopped ${JSON.stringify(answer.stopped_tasks)}, not the presenting task ${p.taskId}`);
  const verifierAt = heard.then(async (t) => {
    await verifier.verify(p.req.clone()).then(
      () => {
        throw new Error('verifier accepted a stopped task token');
      },
      () => undefined,
    );
    return t;
  });
  const intro = await op.introspect(p.cap);
  if (intro.active !== false) throw new Error('token still active after stop');
  toIntrospection.push(performance.now() - t0);
  toVerifier.push((await verifierAt) - t0);
  heardStop.delete(p.taskId);
}

// 100,000 live capability tokens in staging, minted through the core's real path.
console.error(`minting ${LIVE} live capability tokens…`);
const core = broker.core;
const minted: string[] = [];
const agentRec = await core.store.agents.get(victim.clientId);
const PER_TASK = 100;
const mintStart = performance.now();
for (let i = 0; minted.length < LIVE; i++) {
  const jkt = (await victim.dpopKey()).jkt;
  const { token: taskToken } = await openTask(core, agentRec!, { template: 'fix-credentials', environment: 'staging', purpose: `load ${i}` }, jkt);
  const batch = await Promise.all(Array.from({ length: Math.min(PER_TASK, LIVE - minted.length) }, () => exchangeForCapability(core, agentRec!, jkt, taskToken, { capabilities: ['config.read'] })));
  for (const b of batch) if (b.kind === "jwt") minted.push(b.token);
}
const mintSecs = (performance.now() - mintStart) / 1000;
const sample = Array.from({ length: 1000 }, () => minted[Math.floor(Math.random() * minted.length)]!);
if ((await op.introspect(sample[0]!)).active !== true) throw new Error('sample token not live before revocation');
const r0 = performance.now();
const rev = await op.revoke({ environment: 'staging' });
const revokeMs = performance.now() - r0;
if (rev.status !== 200) throw new Error(`revocation failed: ${rev.status}`);
let stillLive = 0;
for (const t of sample) if ((await op.introspect(t)).active !== false) stillLive++;

const a = summary(toIntrospection);
const b = summary(toVerifier);
console.log(`
| measure (loopback, ${RUNS} runs) | p50 | p99 | max |
|---|---|---|---|
| substitution report → presenting task's token inactive at introspection | ${ms(a.p50)} | ${ms(a.p99)} | ${ms(a.max)} |
| substitution report → subscribed verifier rejects it | ${ms(b.p50)} | ${ms(b.p99)} | ${ms(b.max)} |

| revoke an environment | figure |
|---|---|
| live capability tokens in the environment | ${minted.length.toLocaleString('en')} (minted in ${mintSecs.toFixed(1)} s) |
| POST /v1/revocations {environment} round trip | ${ms(revokeMs)} |
| rows written | 2 (the scope epoch, its audit record) |
| sampled tokens still active afterwards | ${stillLive} of ${sample.length} |
`);
verifier.stop();
await server.close();
await broker.close();
rmSync(dir, { recursive: true, force: true });
