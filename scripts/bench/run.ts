// `npm run bench`: stint and oidc-provider side by side on this machine, driven by a load
// generator in its own process with pre-signed requests, then stop latency and environment
// revocation. Prints one table and writes it to docs/benchmarks.md.
//   SECONDS=10 (per load run)  CONNECTIONS=32  ROUNDS=3  STOP_RUNS=1000  LIVE=100000  QUICK=1 (smaller, for CI)
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperatorClient } from '../../src/client/operator.js';
import { freePort, startStint } from '../../src/runtime/node/launch.js';
import type { LoadSpec } from './load.js';
import { loadNow, spawnReady as spawnBench, type MeasuredLoad } from './spawn-load.js';
import { presignResourceRequests, presignTokenRequests } from './presign.js';
import { startOidcProvider } from './oidc-start.js';
import { childPid } from './threads.js';

const QUICK = process.env.QUICK === '1';
const SECONDS = Number(process.env.SECONDS ?? (QUICK ? 2 : 10));
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
// Both servers are warmed up (JIT, caches) with the same load before anything is measured.
const WARMUP = Number(process.env.WARMUP ?? (QUICK ? 0 : 5));
const ROUNDS = Number(process.env.ROUNDS ?? (QUICK ? 1 : 3));
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'stint-bench-'));
const ADMIN = `bench-${crypto.randomUUID()}`;
const log = (m: string) => console.error(`bench: ${m}`);

type Result = MeasuredLoad;

function load(name: string, spec: LoadSpec): Result {
  const r = loadNow(dir, name, spec, log);
  if (r.used > r.available) log(`${name}: ran out of pre-signed requests (${r.available}); later ones were replays`);
  return r;
}

/** The run with the median rate. */
const median = (runs: Result[]) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor((runs.length - 1) / 2)]!;

/** How many single-use requests to sign for a run: enough for the fastest rate we expect. */
const budget = (perSecond: number, seconds = SECONDS) => Math.ceil((QUICK ? Math.min(perSecond, 1500) : perSecond) * seconds * 1.2);

/** An unmeasured run of the same kind first. */
const warmUp = (name: string, url: string, requests: LoadSpec['requests']) => {
  if (WARMUP > 0) load(`${name}-warm-up`, { url, requests, seconds: WARMUP, connections: CONNECTIONS });
};

const children: ChildProcess[] = [];

/** The last full `npm run crash`, as it recorded itself in docs/crash-safety.log. */
function crashSummary(): string {
  let log: string;
  try {
    log = readFileSync(fileURLToPath(new URL('../../docs/crash-safety.log', import.meta.url)), 'utf8');
  } catch {
    return '## Crash safety\n\n`npm run crash` has not been run on this checkout.\n';
  }
  const when = /^npm run crash on (\S+)/.exec(log)?.[1] ?? 'an earlier date';
  const summary = log.split('\n').find((l) => l.startsWith('runs: ')) ?? '(no summary line)';
  return `## Crash safety\n\n\`npm run crash\` on ${when} ([crash-safety.log](crash-safety.log)): ${summary}. A 3-kill form runs in \`npm test\`.\n`;
}

/** Where the CPU went during the saturating runs: what bounds them on this machine. */
function cpuTable(r: Record<string, Result>): string {
  const rows = [
    ['stint: capability token', r.exchange],
    ['stint: introspection', r.introspect],
    ['oidc-provider: client_credentials', r.oidc],
  ] as const;
  if (!rows.every(([, x]) => x?.server)) return '';
  // % of one core over requests per second: microseconds of that thread per request.
  const per = (pct: number, rps: number) => `${Math.round((pct / 100) * 1e6 / rps).toLocaleString('en')} µs`;
  const line = ([name, x]: (typeof rows)[number]) =>
    `| ${name} | ${x!.server!.main}% | ${x!.server!.others}% | ${x!.generatorCpu}% | ${per(x!.server!.main, x!.rps)} | ${per(x!.server!.main + x!.server!.others, x!.rps)} |`;
  return `
| CPU during the run, % of one core (${cpus().length} cores in all) | server main thread | server's other threads (crypto pool, checkpointer) | load generator | main-thread CPU per request | all-thread CPU per request |
|---|---|---|---|---|---|
${rows.map(line).join('\n')}
`;
}
const spawnReady = (args: string[]) => spawnBench(args, children);

try {
  // ——— stint ———
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const stint = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(await freePort()), STINT_ADMIN_TOKEN: ADMIN, STINT_RATE_LIMIT: 'off' }); // one loopback source at full speed: the per-source limit would be the figure
  const op = new OperatorClient(issuer, ADMIN, { brokerUrl: stint.broker });
  const watch = childPid(stint.child.pid!, 'broker.ts');
  const agent = await op.agent('bench-agent', 'alice', ['fix-credentials']);
  const task = await agent.openTask('fix-credentials', 'staging', 'benchmark');
  const dpop = await agent.dpopKey();
  const sign = (n: number, params: Record<string, string>) =>
    presignTokenRequests({ n, issuer, tokenUrl: `${issuer}/token`, path: '/token', clientId: agent.clientId, key: agent.key, dpop, params });
  const exchangeParams = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: task.body.access_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    scope: 'config.read',
  };
  const openParams = {
    grant_type: 'client_credentials',
    authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'benchmark' }]),
  };
  // ——— oidc-provider, the same work as closely as it can be configured ———
  const { issuer: oIssuer, child: oidc, sign: oSign } = await startOidcProvider(spawnReady);
  const url = stint.broker;
  const results: Record<string, Result> = {};
  warmUp('stint', url, await sign(budget(3000, WARMUP), exchangeParams));
  warmUp('oidc-provider', oIssuer, await oSign(budget(3000, WARMUP)));
  // Minting: stint and oidc-provider take turns, so that a drift in this machine's speed
  // (up to ±20% between minutes here) falls on both; each figure is the median of the rounds.
  const rounds: { stint: Result; oidc: Result }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const stintRun = load(`stint-exchange-${r}`, { url, requests: await sign(budget(3000), exchangeParams), seconds: SECONDS, connections: CONNECTIONS, watch });
    const oidcRun = load(`oidc-provider-${r}`, { url: oIssuer, requests: await oSign(budget(3000)), seconds: SECONDS, connections: CONNECTIONS, watch: oidc.pid });
    rounds.push({ stint: stintRun, oidc: oidcRun });
  }
  results.exchange = median(rounds.map((r) => r.stint));
  results.oidc = median(rounds.map((r) => r.oidc));
  results.open = load('stint-open', { url, requests: await sign(budget(3000), openParams), seconds: SECONDS, connections: CONNECTIONS });
  results.exchange500 = load('stint-exchange-500', { url, requests: await sign(budget(600), exchangeParams), seconds: SECONDS, connections: CONNECTIONS, rate: 500 });
  results.oidc500 = load('oidc-provider-500', { url: oIssuer, requests: await oSign(budget(600)), seconds: SECONDS, connections: CONNECTIONS, rate: 500 });

  // Introspection: a pool of live capability tokens, asked about again and again.
  const caps: string[] = [];
  for (let i = 0; i < 200; i++) caps.push((await agent.exchange(task.body.access_token, 'config.read')).body.access_token);
  const introspect = caps.map((t) => ({ method: 'POST', path: '/introspect', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${t}` }));
  results.introspect = load('stint-introspect', { url, requests: Array.from({ length: 40 }, () => introspect).flat(), seconds: SECONDS, connections: CONNECTIONS, watch });

  // Offline verification in a resource service built with the middleware.
  const rs = await op.resource('config', 'https://api.staging.example/config');
  const rsPort = await freePort();
  await spawnReady([here('./resource-server.ts'), String(rsPort), issuer, stint.broker, rs.client_id, rs.client_secret]);
  const rsUrl = `http://127.0.0.1:${rsPort}`;
  const verifyReqs = await presignResourceRequests({ n: budget(4000), url: `${rsUrl}/config`, token: caps[0]!, dpop });
  results.verify = load('stint-verify', { url: rsUrl, requests: verifyReqs, seconds: SECONDS, connections: CONNECTIONS });

  await stint.stop();
  for (const c of children.splice(0)) c.kill();

  // ——— stop latency and environment revocation (scripts/bench/stop.ts) ———
  log('stop latency and environment revocation…');
  const stopTable = execFileSync(process.execPath, ['--import', 'tsx', here('./stop.ts')], {
    env: { ...process.env, RUNS: process.env.STOP_RUNS ?? (QUICK ? '10' : '1000'), LIVE: process.env.LIVE ?? (QUICK ? '1000' : '100000') },
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();

  // ——— the cost of an exchange as the agent's history grows (scripts/bench/history.ts) ———
  log('exchange cost at 1,000 and 100,000 past tasks…');
  const historyTable = execFileSync(process.execPath, ['--import', 'tsx', here('./history.ts')], {
    env: { ...process.env, N: process.env.HISTORY_N ?? (QUICK ? '50' : '300'), TASKS: process.env.HISTORY_TASKS ?? (QUICK ? '1000,10000' : '1000,100000') },
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();

  // ——— the same minting on PostgreSQL, one node and two, beside SQLite (scripts/bench/backends.ts) ———
  log('minting on SQLite and on PostgreSQL with one and two nodes…');
  const backendsTable = execFileSync(process.execPath, ['--import', 'tsx', here('./backends.ts')], {
    env: { ...process.env, SECONDS: String(SECONDS), WARM: QUICK ? '1' : '3' },
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();

  // ——— minting while verifiers reconnect at once (scripts/bench/storm.ts) ———
  log('minting during a reconnect storm…');
  const stormTable = execFileSync(process.execPath, ['--import', 'tsx', here('./storm.ts')], {
    env: { ...process.env, ...(QUICK ? { ISSUED: '2000', VERIFIERS: '50', SECONDS: '3', PAIRS: '1' } : {}) },
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();

  // ——— the egress proxy beside a direct request (scripts/bench/egress.ts) ———
  log('the egress proxy beside a direct request…');
  const egressTable = execFileSync(process.execPath, ['--import', 'tsx', here('./egress.ts')], {
    env: { ...process.env, ...(QUICK ? { SECONDS: '1', RUNS: '10' } : { SECONDS: '5' }) },
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();

  const f = (r: Result) => `${Math.round(r.rps).toLocaleString('en')} | ${r.p50} ms | ${r.p99} ms | ${r.non2xx + r.errors}`;
  const table = `| run (${SECONDS} s each after a ${WARMUP} s warm-up, ${CONNECTIONS} connections) | requests/s | p50 | p99 | non-2xx |
|---|---|---|---|---|
| stint: open a task (client_credentials + RAR, private_key_jwt, DPoP) | ${f(results.open!)} |
| stint: capability token (RFC 8693 exchange, DPoP, at+jwt) | ${f(results.exchange!)} |
| oidc-provider 9.13: client_credentials (private_key_jwt, DPoP, JWT AT via resource indicator) | ${f(results.oidc!)} |
| stint: capability token at a fixed 500 req/s | ${f(results.exchange500!)} |
| oidc-provider at a fixed 500 req/s | ${f(results.oidc500!)} |
| stint: introspection (RFC 7662, operator) | ${f(results.introspect!)} |
| stint: offline verification in a resource service (verifier middleware, DPoP) | ${f(results.verify!)} |

Minting ratio stint/oidc-provider: capability tokens ${(results.exchange!.rps / results.oidc!.rps).toFixed(2)}×, task opening ${(results.open!.rps / results.oidc!.rps).toFixed(2)}×. Capability tokens and oidc-provider are the median of ${ROUNDS} alternating runs (requests/s, stint / oidc-provider: ${rounds.map((r) => `${Math.round(r.stint.rps).toLocaleString('en')} / ${Math.round(r.oidc.rps).toLocaleString('en')}`).join('; ')}).
${cpuTable(results)}
${backendsTable}
${stormTable}
${egressTable}
${historyTable}
${stopTable}`;
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}; servers and load generator on the same machine, loopback`;
  console.log(`\n${machine}\n\n${table}`);
  if (!QUICK) {
    // The sections written by hand or by other scripts (the profile, the guard) are kept.
    const file = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
    let kept: string[] = [];
    try {
      kept = readFileSync(file, 'utf8').split(/\n(?=## )/).slice(1).filter((s) => !s.startsWith('## Crash safety'));
    } catch {
      // first run
    }
    writeFileSync(file, `# Benchmarks\n\nProduced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\nMachine: ${machine}.\n\n${table}\n${crashSummary()}${kept.length ? `\n${kept.join('\n')}` : ''}`);
    log('wrote docs/benchmarks.md');
  }
} finally {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
}
