// The supervisor killed mid-run: the sandboxed command has no network from then on (its sandbox
// dies with the supervisor, the proxy socket has no listener, the run directory is removed), and
// the run says why on stderr and exits non-zero.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKeyFile, egressBroker, fakeProviders, stintRun, workspace } from './helpers.js';

let broker: Awaited<ReturnType<typeof egressBroker>>;
let fake: Awaited<ReturnType<typeof fakeProviders>>;
beforeAll(async () => {
  broker = await egressBroker();
  fake = await fakeProviders();
});
afterAll(async () => {
  await fake?.close();
  await broker?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the supervisor crashing fails closed', () => {
  it('SIGKILL to stint run: the command stops reaching anything, the socket directory is gone, and the run says why', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
    const agent = await agentKeyFile(broker, keys);
    const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
    const tmp = mkdtempSync(join(tmpdir(), 'stint-crash-tmp-'));
    const ws = workspace();
    // Every 0.1 s: a request through the proxy, and a direct one; each outcome written down.
    const loop = [
      'while true; do',
      `  p=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/json' -d '{"query":"query { me { id } }"}' 2>/dev/null)`,
      `  d=$(curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 -k https://127.0.0.1:${fake.ports.gql}/graphql/v2 2>/dev/null)`,
      '  echo "proxied=$p direct=$d" >> attempts.log',
      '  sleep 0.1',
      'done',
    ].join('\n');
    let child: ChildProcess | undefined;
    const running = stintRun(
      ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--env', 'RAILWAY_TOKEN=railway-staging', '--', 'sh', '-c', loop],
      { STINT_HOME: home, TMPDIR: tmp, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile },
      ws,
      (c) => (child = c),
    );
    const log = () => (existsSync(join(ws, 'attempts.log')) ? readFileSync(join(ws, 'attempts.log'), 'utf8').trim().split('\n') : []);
    await expect.poll(() => log().some((l) => l.startsWith('proxied=200')), { timeout: 30_000, interval: 100 }).toBe(true);
    // Before the crash: the proxy works, a direct connection does not.
    expect(log().every((l) => !/direct=200/.test(l))).toBe(true);
    expect(readdirSync(tmp).filter((d) => d.startsWith('stint-run-'))).toHaveLength(1);

    child!.kill('SIGKILL');
    const r = await running;
    expect(r.signal).toBe('SIGKILL');
    await expect.poll(() => readdirSync(tmp).filter((d) => d.startsWith('stint-run-')), { timeout: 10_000 }).toHaveLength(0);
    const seen = fake.seen.length;
    const lines = log().length;
    await sleep(1500);
    // Nothing more reached the provider, and the command is no longer there to try.
    expect(fake.seen.length).toBe(seen);
    expect(log().length).toBe(lines);
    expect(log().every((l) => !/direct=200/.test(l))).toBe(true);
    expect(r.stderr).toMatch(/stint run: the supervisor \(pid \d+\) ended without finishing \(killed or crashed\): the command was ended and had no network/);
  });

  it('--no-sandbox (no namespace to die with it): the watchdog ends the command group itself', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
    const agent = await agentKeyFile(broker, keys);
    const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
    const ws = workspace();
    let child: ChildProcess | undefined;
    const running = stintRun(
      ['--no-sandbox', '--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--', 'sh', '-c', 'while true; do echo tick >> ticks.log; sleep 0.1; done'],
      { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile },
      ws,
      (c) => (child = c),
    );
    const ticks = () => (existsSync(join(ws, 'ticks.log')) ? readFileSync(join(ws, 'ticks.log'), 'utf8').length : 0);
    await expect.poll(ticks, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    child!.kill('SIGKILL');
    const r = await running;
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toMatch(/the supervisor \(pid \d+\) ended without finishing/);
    await sleep(300);
    const n = ticks();
    await sleep(1000);
    expect(ticks()).toBe(n);
  });

  it('a run that ends normally leaves the watchdog quiet', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
    const agent = await agentKeyFile(broker, keys);
    const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
    const r = await stintRun(
      ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--', 'sh', '-c', 'exit 7'],
      { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile },
      workspace(),
    );
    expect(r.code, r.stderr).toBe(7);
    await sleep(300);
    expect(r.stderr).not.toMatch(/ended without finishing/);
  });
});
