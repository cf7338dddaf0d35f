// Under `stint run`: the broker stops answering (hung: its connections stay open and say nothing,
// which a killed broker's closed connections do not test), and the command's next requests are
// refused 403 broker_unreachable (curl opens a tunnel per call: its CONNECT is refused), nothing
// more reaching the provider. The broker is reached through a relay that can be frozen.
import { mkdtempSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/process.js';
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

async function relay(to: number) {
  let frozen = false;
  const pairs: [Socket, Socket][] = [];
  const held: Socket[] = [];
  const server = createServer((c) => {
    c.on('error', () => {});
    if (frozen) return void held.push(c); // accepted, never answered
    const u = connect(to, '127.0.0.1');
    u.on('error', () => c.destroy());
    c.pipe(u);
    u.pipe(c);
    pairs.push([c, u]);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    freeze() {
      frozen = true;
      for (const [c, u] of pairs) (c.unpipe(u), u.unpipe(c), c.pause(), u.pause());
    },
    close() {
      for (const s of [...pairs.flat(), ...held]) s.destroy();
      server.close();
    },
  };
}

describe('broker unreachable under stint run', () => {
  it('a hung broker: the next requests are refused 403 broker_unreachable and nothing more reaches the provider', async () => {
    const r = await relay(Number(new URL(broker.issuer).port));
    try {
      const agent = await agentKeyFile(broker, mkdtempSync(join(tmpdir(), 'stint-run-keys-')));
      const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
      const ws = workspace();
      // A REST read (no decision needed: only liveness stands between it and the provider).
      const call = `curl -sS --max-time 2 https://api.staging.example/v1/volumes -H "X-Api-Key: $REST_TOKEN" -w ' HTTP=%{http_code}\\n' >> out.log 2>&1`;
      // until the first refusal, then five more calls: each must be refused too
      const loop = `for i in $(seq 1 300); do ${call}; grep -q 'response 403' out.log && break; sleep 0.1; done; for i in 1 2 3 4 5; do ${call}; done; cat out.log`;
      let frozeAt = -1;
      const running = stintRun(
        ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', r.url, '--issuer', broker.issuer, '--env', 'REST_TOKEN=rest-staging', '--no-complete', '--', 'sh', '-c', loop],
        { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile, STINT_EGRESS_LOG: '1' },
        ws,
      );
      const mine = () => fake.seen.filter((s) => s.path === '/v1/volumes').length;
      await expect.poll(mine, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
      r.freeze();
      frozeAt = mine();
      const out = await running;
      expect(out.code, out.stderr).toBe(0);
      // curl's new tunnel is refused (CONNECT 403); the proxy's decision log names the rule
      expect(out.stdout).toMatch(/CONNECT tunnel failed, response 403/);
      expect(out.stderr).toMatch(/stint run: \{"decision":"refuse","rule":"broker_unreachable","connect":"api\.staging\.example:443"\}/);
      const lines = out.stdout.trim().split('\n').filter((l) => /HTTP=|response 403/.test(l));
      const first = lines.findIndex((l) => /response 403/.test(l));
      expect(first).toBeGreaterThan(0);
      expect(lines.slice(first).filter((l) => /response 403/.test(l)).length).toBeGreaterThanOrEqual(6);
      expect(lines.slice(first).some((l) => /HTTP=200/.test(l))).toBe(false);
      // every request that reached the provider after the freeze is one the command saw succeed
      expect(mine() - frozeAt).toBeLessThanOrEqual(lines.slice(0, first).filter((l) => /HTTP=200/.test(l)).length);
    } finally {
      r.close();
    }
  });
});
