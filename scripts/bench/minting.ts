// Minting only: stint's capability token against oidc-provider's client_credentials, the
// first rows of `npm run bench` and its CPU table, without the rest (≈1 min instead of ≈5).
//   SECONDS=10  CONNECTIONS=32  ROUNDS=3  WARMUP=5
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatorClient } from '../../src/client/operator.js';
import { freePort, startStint } from '../../src/runtime/node/launch.js';
import type { LoadSpec } from './load.js';
import { loadNow, spawnReady as spawnBench, type MeasuredLoad } from './spawn-load.js';
import { presignTokenRequests } from './presign.js';
import { startOidcProvider } from './oidc-start.js';
import { childPid } from './threads.js';

const SECONDS = Number(process.env.SECONDS ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const WARMUP = Number(process.env.WARMUP ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'stint-minting-'));
const ADMIN = `bench-${crypto.randomUUID()}`;
const log = (m: string) => console.error(`bench: ${m}`);

type Result = MeasuredLoad;
const load = (name: string, spec: LoadSpec): Result => loadNow(dir, name, spec, log);
const median = (runs: Result[]) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor((runs.length - 1) / 2)]!;
const budget = (perSecond: number, seconds = SECONDS) => Math.ceil(perSecond * seconds * 1.2);
const children: ChildProcess[] = [];
const spawnReady = (args: string[]) => spawnBench(args, children);

const load0 = loadavg()[0]!;
try {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const stint = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(await freePort()), STINT_ADMIN_TOKEN: ADMIN, STINT_RATE_LIMIT: 'off' });
  const op = new OperatorClient(issuer, ADMIN, { brokerUrl: stint.broker });
  const watch = childPid(stint.child.pid!, 'broker.ts');
  const agent = await op.agent('bench-agent', 'alice', ['fix-credentials']);
  const task = await agent.openTask('fix-credentials', 'staging', 'benchmark');
  const dpop = await agent.dpopKey();
  const exchangeParams = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: task.body.access_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    scope: 'config.read',
  };
  const sign = (n: number) => presignTokenRequests({ n, issuer, tokenUrl: `${issuer}/token`, path: '/token', clientId: agent.clientId, key: agent.key, dpop, params: exchangeParams });
  const { issuer: oIssuer, child: oidc, sign: oSign } = await startOidcProvider(spawnReady);
  if (WARMUP > 0) {
    load('stint-warm-up', { url: stint.broker, requests: await sign(budget(3000, WARMUP)), seconds: WARMUP, connections: CONNECTIONS });
    load('oidc-warm-up', { url: oIssuer, requests: await oSign(budget(3000, WARMUP)), seconds: WARMUP, connections: CONNECTIONS });
  }
  const rounds: { stint: Result; oidc: Result }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const s = load(`stint-${r}`, { url: stint.broker, requests: await sign(budget(3000)), seconds: SECONDS, connections: CONNECTIONS, watch });
    const o = load(`oidc-${r}`, { url: oIssuer, requests: await oSign(budget(3000)), seconds: SECONDS, connections: CONNECTIONS, watch: oidc.pid });
    rounds.push({ stint: s, oidc: o });
    const us = (x: Result) => (x.server ? `${Math.round(((x.server.main / 100) * 1e6) / x.rps)} µs main, ${Math.round((((x.server.main + x.server.others) / 100) * 1e6) / x.rps)} µs all` : '');
    log(`round ${r}: stint ${Math.round(s.rps)} req/s (${us(s)}; ${s.non2xx} non-2xx), oidc-provider ${Math.round(o.rps)} req/s (${us(o)})`);
  }
  const s = median(rounds.map((r) => r.stint));
  const o = median(rounds.map((r) => r.oidc));
  const per = (x: Result, all: boolean) => Math.round((((x.server!.main + (all ? x.server!.others : 0)) / 100) * 1e6) / x.rps);
  console.log(`minting, median of ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${cpus().length} cores, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}:
| | req/s | p50 ms | p99 ms | main-thread CPU per request | all-thread CPU per request |
|---|---|---|---|---|---|
| stint: capability token | ${Math.round(s.rps)} | ${s.p50} | ${s.p99} | ${per(s, false)} µs | ${per(s, true)} µs |
| oidc-provider: client_credentials | ${Math.round(o.rps)} | ${o.p50} | ${o.p99} | ${per(o, false)} µs | ${per(o, true)} µs |
ratio: ${(s.rps / o.rps).toFixed(2)}×`);
  await stint.stop();
} finally {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
}
