// CPU of an event stream's set-up (issue 23): an in-process broker on SQLite whose audit window
// holds ISSUED records, and VERIFIERS resource services opening `/v1/events?from=recent` at once
// through the real HTTP server; prints the broker thread's CPU per stream until `stream.open`,
// and how long the thread was held at once (CPU time, not wall time: the machine is shared).
// The clients run in a child process so that their CPU is not counted.
//   node --import tsx scripts/bench/storm-setup.ts     ISSUED=20000  VERIFIERS=200  ROUNDS=5
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicyDir } from '../../src/policy/node.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { listen } from '../../src/runtime/node/serve.js';
import { registerResource } from '../../src/core/resources.js';
import { ROOT } from '../../src/runtime/node/launch.js';

const ISSUED = Number(process.env.ISSUED ?? 20_000);
const VERIFIERS = Number(process.env.VERIFIERS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

if (process.argv[2] === 'client') {
  // The verifiers: told the URL and credentials, open every stream at once on each 'go'.
  const reconnect = async (url: string, authorization: string) => {
    const ctl = new AbortController();
    const res = await fetch(`${url}/v1/events?from=recent`, { headers: { Authorization: authorization }, signal: ctl.signal });
    if (res.status !== 200) throw new Error(`stream: ${res.status} ${await res.text()}`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended before stream.open');
      buf += value;
      if (buf.includes('event: stream.open')) break;
      buf = buf.slice(-64);
    }
    ctl.abort();
  };
  process.on('message', async (m: { url: string; auths: string[] }) => {
    const r = await Promise.allSettled(m.auths.map((a) => reconnect(m.url, a)));
    const failed = r.filter((x) => x.status === 'rejected') as PromiseRejectedResult[];
    process.send!({ failed: failed.length, why: failed[0]?.reason?.message });
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'stint-storm-setup-'));
  const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir(join(ROOT, 'policies')), issuer: 'https://stint.storm.test', adminToken: 'x'.repeat(32), masterKey: new Uint8Array(32).fill(7), rateLimit: false });
  let arrivals = 0;
  const server = await listen({ fetch: (req, env) => (arrivals++, broker.app.fetch(req, env)) }, '127.0.0.1', 0);
  try {
    for (let i = 0; i < ISSUED; i++) await broker.core.audit.append({ type: 'token.issued', actor: 'agent:a', data: { jti: `j${i}`, environment: 'staging' } });
    const auths: string[] = [];
    for (let i = 0; i < VERIFIERS; i++) {
      const { resource, secret } = await registerResource(broker.core, { name: `v${i}`, audience: `https://api.staging.example/v${i}` }, 'operator');
      auths.push(`Basic ${btoa(`${resource.id}:${secret}`)}`);
    }
    const client = fork(fileURLToPath(import.meta.url), ['client'], { execArgv: ['--import', 'tsx'] });
    // The main thread only, ms (its schedstat: ns on a CPU), and the whole process.
    const runNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
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
    for (let r = 0; r < ROUNDS; r++) {
      await new Promise((res) => setTimeout(res, 1100)); // past the cached start of ?from=recent
      turns = [];
      const c0 = mainCpu();
      const a0 = allCpu();
      const t0 = performance.now();
      const done = new Promise<{ failed: number; why?: string }>((res) => client.once('message', res as never));
      client.send({ url: server.url, auths });
      const { failed, why } = await done;
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
    client.kill();
  } finally {
    await server.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
