// CPU of an event stream's set-up (issue 23): an in-process broker on SQLite whose audit window
// holds ISSUED records, and VERIFIERS resource services opening `/v1/events?from=recent` at once
// through the real HTTP server; prints the broker thread's CPU per stream until `stream.open`,
// and how long the thread was held at once (CPU time, not wall time: the machine is shared).
// The clients run in a child process at nice 19 (reconnect.ts) so that their CPU is not counted.
//   node --import tsx scripts/bench/storm-setup.ts     ISSUED=20000  VERIFIERS=200  ROUNDS=5
// With MINT=1, instead of rounds: minting at RATE/s for SECONDS s without and then with one storm
// (as scripts/bench/storm.ts), each token request's latency told both as wall time (the load
// generator's) and as the broker thread's CPU time while it was in flight: the work it waited
// behind, which other processes on a shared machine do not inflate.
//   MINT=1 node --import tsx scripts/bench/storm-setup.ts     RATE=200  SECONDS=10
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyDir } from '../../src/policy/node.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { listen } from '../../src/runtime/node/serve.js';
import { registerResource } from '../../src/core/resources.js';
import { ROOT } from '../../src/runtime/node/launch.js';
import { OperatorClient } from '../../src/client/operator.js';
import { exchangeSigner } from './presign.js';
import { loadInBackground } from './spawn-load.js';
import { verifierFleet } from './reconnect.js';

const ISSUED = Number(process.env.ISSUED ?? 20_000);
const VERIFIERS = Number(process.env.VERIFIERS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 10);
const ISSUER = 'https://stint.storm.test';
const ADMIN = 'storm-admin-'.padEnd(40, 'x');

const dir = mkdtempSync(join(tmpdir(), 'stint-storm-setup-'));
const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir(join(ROOT, 'policies')), issuer: ISSUER, adminToken: ADMIN, masterKey: new Uint8Array(32).fill(7), rateLimit: false });
const runNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
let arrivals = 0;
let tokenCpu: number[] = [];
const server = await listen(
  {
    fetch: (req, env) => {
      arrivals++;
      if (!req.url.endsWith('/token')) return broker.app.fetch(req, env);
      const t0 = runNs();
      return Promise.resolve(broker.app.fetch(req, env)).then((res) => (tokenCpu.push((runNs() - t0) / 1e6), res));
    },
  },
  '127.0.0.1',
  0,
);
try {
  for (let i = 0; i < ISSUED; i++) await broker.core.audit.append({ type: 'token.issued', actor: 'agent:a', data: { jti: `j${i}`, environment: 'staging' } });
  const auths: string[] = [];
  for (let i = 0; i < VERIFIERS; i++) {
    const { resource, secret } = await registerResource(broker.core, { name: `v${i}`, audience: `https://api.staging.example/v${i}` }, 'operator');
    auths.push(`Basic ${btoa(`${resource.id}:${secret}`)}`);
  }
  const fleet = verifierFleet();
  // The main thread only, ms (its schedstat: ns on a CPU), and the whole process.
  const mainCpu = () => runNs() / 1e6;
  const allCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // How long the thread is held at once: each turn of the event loop (a setImmediate chain),
  // its CPU time and the requests that arrived in it.
  let turns: { cpu: number; arrived: number }[] = [];
  let lastTurn = runNs();
  let lastArrivals = 0;
  let ticking = true;
  const turnTick = () => {
    const now = runNs();
    turns.push({ cpu: (now - lastTurn) / 1e6, arrived: arrivals - lastArrivals });
    lastTurn = now;
    lastArrivals = arrivals;
    if (ticking) setImmediate(turnTick);
  };
  turnTick();
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
  console.error(`rounds from ${process.hrtime.bigint() / 1000n} µs`); // for a --cpu-prof: the samples after this
  if (process.env.MINT) {
    const sign = await exchangeSigner(await new OperatorClient(ISSUER, ADMIN, { brokerUrl: server.url }).agent('storm-agent', 'alice', ['fix-credentials']), ISSUER);
    const paced = async (name: string) => loadInBackground(dir, name, { url: server.url, requests: await sign(RATE * SECONDS + 100), seconds: SECONDS, connections: 32, rate: RATE });
    await paced('warm-up'); // the JIT and the caches warm, as on a broker that has been serving
    tokenCpu = [];
    const quiet = await paced('quiet');
    const quietCpu = tokenCpu;
    tokenCpu = [];
    turns = [];
    const during = paced('storm');
    await new Promise((res) => setTimeout(res, 2000));
    const t0 = performance.now();
    const { failed, why } = await fleet.storm(server.url, auths);
    const stormMs = performance.now() - t0;
    const storm = await during;
    const stormCpu = tokenCpu;
    const f = (x: number) => x.toFixed(2);
    console.log(`| minting at ${RATE}/s, ${ISSUED.toLocaleString('en')} records in the audit window | wall p50 | wall p99 | thread CPU in flight p50 | p99 | non-2xx |
|---|---|---|---|---|---|
| no reconnects | ${quiet.p50} ms | ${quiet.p99} ms | ${f(q(quietCpu, 0.5))} ms | ${f(q(quietCpu, 0.99))} ms | ${quiet.non2xx + quiet.errors} |
| ${VERIFIERS} verifiers reconnect with \`?from=recent\` | ${storm.p50} ms | ${storm.p99} ms | ${f(q(stormCpu, 0.5))} ms | ${f(q(stormCpu, 0.99))} ms | ${storm.non2xx + storm.errors} |

p99 with the storm ÷ without: wall ${(storm.p99 / quiet.p99).toFixed(2)}×, thread CPU ${(q(stormCpu, 0.99) / q(quietCpu, 0.99)).toFixed(2)}× (target ≤ 2×). Every verifier had its backlog after ${Math.round(stormMs).toLocaleString('en')} ms${failed ? ` (${failed} failed: ${why})` : ''}; longest turns of the loop (CPU ms): ${[...turns].sort((a, b) => b.cpu - a.cpu).slice(0, 4).map((t) => `${t.cpu.toFixed(1)} (${t.arrived} requests read)`).join(', ')}.`);
  }
  for (let r = 0; r < (process.env.MINT ? 0 : ROUNDS); r++) {
    await new Promise((res) => setTimeout(res, 1100)); // past the cached start of ?from=recent
    turns = [];
    const c0 = mainCpu();
    const a0 = allCpu();
    const t0 = performance.now();
    const { failed, why } = await fleet.storm(server.url, auths);
    const ms = performance.now() - t0;
    const cpu = mainCpu() - c0;
    const all = allCpu() - a0;
    const held = turns.map((t) => t.cpu);
    console.log(
      `round ${r}: ${VERIFIERS} streams in ${ms.toFixed(0)} ms; broker main thread ${cpu.toFixed(0)} ms (${((cpu / VERIFIERS) * 1000).toFixed(0)} µs per stream), all threads ${all.toFixed(0)} ms;` +
        ` CPU ms per turn of the loop: p99 ${q(held, 0.99).toFixed(1)}, longest ${[...turns].sort((a, b) => b.cpu - a.cpu).slice(0, 4).map((t) => `${t.cpu.toFixed(1)} (${t.arrived} requests read)`).join(', ')}` +
        `${failed ? `; ${failed} failed: ${why}` : ''}`,
    );
  }
  ticking = false;
  fleet.close();
} finally {
  await server.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
