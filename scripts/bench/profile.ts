// Where a capability token's main-thread microseconds go: the broker in-process (no socket:
// the HTTP stack is not in this profile), N exchanges signed ahead, then served one at a time
// under V8's sampling profiler; self time grouped by where the code lives, per token.
//   N=2000  PROFILE=path.cpuprofile (also write the raw profile, for Chrome DevTools)
//   SOCKET=1 (served over a real socket by Node's HTTP server, as `npm start` does, the requests sent by a
//   child process: the HTTP stack is then in the figures)
//   WARM=300 (exchanges served before measuring)
//   CPU_ONLY=1 (no profiler: only the CPU per token, without the sampler's own overhead; for A/B runs)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertion, dpopProof, newKey } from '../../src/client/proofs.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';

// The child that sends the requests when SOCKET=1: 16 connections, each request once.
if (process.argv[2] === '--client') {
  const spec = JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as { url: string; requests: { headers: Record<string, string>; body: string }[] };
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < spec.requests.length) {
        const r = spec.requests[next++]!;
        const res = await fetch(`${spec.url}/token`, { method: 'POST', headers: r.headers, body: r.body });
        if (res.status !== 200) throw new Error(`exchange: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  process.exit(0);
}

const N = Number(process.env.N ?? 2000);
const ISSUER = 'http://localhost:8787';
const ADMIN = `bench-${crypto.randomUUID()}`;
let closeServer: (() => Promise<void>) | undefined;
const dir = mkdtempSync(join(tmpdir(), 'stint-profile-'));
const broker = await createNodeBroker({
  dbPath: join(dir, 'stint.db'),
  policy: loadPolicyDir(fileURLToPath(new URL('../../policies', import.meta.url))),
  issuer: ISSUER,
  adminToken: ADMIN,
  masterKey: crypto.getRandomValues(new Uint8Array(32)),
  rateLimit: false,
});

/** This process's main-thread CPU so far, µs (Linux: the main thread's task id is the pid; schedstat counts ns). */
function mainThreadCpu(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return NaN;
  }
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

/** Where a frame's code lives, coarsely: what the profile's self time is grouped by. */
function area(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'GC' : fn === '(program)' || fn === '(idle)' ? `V8 ${fn}` : `native: ${fn || '(anonymous)'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `dependency: ${nm[1]}`;
  if (url.startsWith('node:')) return `Node: ${url.slice(5).split('/')[0]}`;
  const src = /\/src\/(.+)$/.exec(url);
  if (src) {
    const p = src[1]!;
    return `stint: ${p.startsWith('core/') ? p.split('/').slice(0, 2).join('/') : p.split('/').slice(0, 2).join('/')}`;
  }
  return url;
}

try {
  const req = (path: string, init: RequestInit) => broker.app.request(`${ISSUER}${path}`, init);
  const key = await newKey();
  const reg = await req('/v1/agents', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'profile', owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] }),
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
  const opened = await req('/token', await token({ grant_type: 'client_credentials', authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'profile' }]) }));
  const taskToken = ((await opened.json()) as { access_token: string }).access_token;
  const exchange = { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: taskToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'config.read' };
  const warm = await Promise.all(Array.from({ length: Number(process.env.WARM ?? 300) }, () => token(exchange)));
  // Served 16 at a time, as concurrent clients would be (the group commit and the crypto pool batch).
  let prepare = (_list: Awaited<ReturnType<typeof token>>[]): void => {};
  let serve = async (list: Awaited<ReturnType<typeof token>>[]): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < list.length) {
          const res = await req('/token', list[next++]!);
          if (res.status !== 200) throw new Error(`exchange: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
  };
  if (process.env.SOCKET === '1') {
    const { listen } = await import('../../src/runtime/node/serve.js');
    const server = await listen(broker.app, '127.0.0.1', 0);
    closeServer = server.close;
    let round = 0;
    // Each list is written for the client once, ahead of time: not inside a measured window.
    const files = new Map<unknown, string>();
    prepare = (list) => {
      const file = join(dir, `requests-${round++}.json`);
      writeFileSync(file, JSON.stringify({ url: server.url, requests: list.map((r) => ({ headers: r.headers, body: r.body.toString() })) }));
      files.set(list, file);
    };
    serve = (list) => {
      if (!files.has(list)) prepare(list);
      const file = files.get(list)!;
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--client', file], { stdio: ['ignore', 'inherit', 'inherit'] });
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the client exited ${code}`))));
      });
    };
  }
  await serve(warm);
  // Signed after the warm-up, so that they are fresh (a DPoP proof's iat is good for 60 s) even
  // when everything runs slowly (under valgrind, for instruction counts).
  const signed = await Promise.all(Array.from({ length: N }, () => token(exchange)));
  prepare(signed);

  if (process.env.CPU_ONLY === '1') {
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpu();
    await serve(signed);
    const cpu = process.cpuUsage(cpu0);
    console.log(`${N} capability tokens ${process.env.SOCKET === "1" ? "over a socket" : "in-process"}, CPU per token: ${Math.round((mainThreadCpu() - main0) / N)} µs on the main thread, ${Math.round((cpu.user + cpu.system) / N)} µs on all threads (no profiler).`);
  } else await profiled(signed, serve);
} finally {
  await closeServer?.();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}

async function profiled<T>(signed: T[], serve: (list: T[]) => Promise<void>) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpu();
  const t0 = performance.now();
  await session.post('Profiler.start');
  await serve(signed);
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] } };
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = mainThreadCpu() - main0;
  if (process.env.PROFILE) writeFileSync(process.env.PROFILE, JSON.stringify(profile));

  // Self time per node from the samples, then grouped.
  const self = new Map<number, number>();
  // Weighted by count, not by the time since the previous sample: a thread descheduled (by the
  // thread pool it just woke, on a busy 2-core machine) gets one sample when it runs again, and
  // that sample's long delta would charge the wait to whatever it was doing (libuv's job queue).
  profile.samples.forEach((id) => self.set(id, (self.get(id) ?? 0) + 1));
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const a = area(n.callFrame.url, n.callFrame.functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + t);
    const f = `${a} › ${n.callFrame.functionName || '(anonymous)'}`;
    byFn.set(f, (byFn.get(f) ?? 0) + t);
  }
  const idle = [...byArea].filter(([a]) => a === 'V8 (idle)').reduce((s, [, t]) => s + t, 0);
  const total = [...byArea.values()].reduce((s, t) => s + t, 0) - idle;
  // Samples are wall-clock ticks: on a busy machine a descheduled thread's ticks land on
  // whatever ran last. Shares come from the samples; microseconds from the thread's own CPU time.
  const scale = Number.isFinite(mainCpu) ? mainCpu / total : 1;
  const per = (us: number) => ((us * scale) / N).toFixed(1);
  const rows = [...byArea].filter(([a]) => a !== 'V8 (idle)').sort((a, b) => b[1] - a[1]);
  const top = [...byFn].filter(([f]) => !f.startsWith('V8 (idle)')).sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log(`${N} capability tokens ${process.env.SOCKET === '1' ? 'over a socket (16 connections)' : 'in-process (16 concurrent, no socket)'}, ${(wall / 1000).toFixed(1)} s wall, CPU per token: ${Math.round(mainCpu / N)} µs on the main thread, ${Math.round((cpu.user + cpu.system) / N)} µs on all threads.

| where (self time on the main thread) | µs per token | share |
|---|---|---|
${rows.map(([a, t]) => `| ${a} | ${per(t)} | ${((t / total) * 100).toFixed(1)}% |`).join('\n')}

| top functions (self time) | µs per token |
|---|---|
${top.map(([f, t]) => `| ${f.replace(/\|/g, '\\|')} | ${per(t)} |`).join('\n')}
`);
}
