// A reconnect storm (issue 23): a broker whose audit window holds ISSUED capability tokens, minting at
// a fixed RATE, while VERIFIERS resource services reconnect at once with `?from=recent` (what a
// verifier does after the broker restarted). Prints minting p50/p99 without and with the storm,
// and how long the storm took until every verifier had its backlog (`stream.open`).
//   node --import tsx scripts/bench/storm.ts     ISSUED=20000  VERIFIERS=200  RATE=200  SECONDS=10
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISSUER, startNode } from '../../test/multi-node/nodes.js';
import { exchangeSigner } from './presign.js';
import { loadInBackground } from './spawn-load.js';
import { reconnect } from './reconnect.js';

const ISSUED = Number(process.env.ISSUED ?? 20_000);
const VERIFIERS = Number(process.env.VERIFIERS ?? 200);
const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'stint-storm-'));
const log = (m: string) => console.error(`bench: ${m}`);


const node = await startNode('storm', '', { STINT_DATABASE_URL: '', STINT_DB: join(dir, 'stint.db') });
try {
  const sign = await exchangeSigner(await node.operator.agent('storm-agent', 'alice', ['fix-credentials']), ISSUER);

  log(`filling the audit window with ${ISSUED} capability tokens…`);
  let left = ISSUED;
  while (left > 0) {
    const r = await loadInBackground(dir, 'fill', { url: node.url, requests: await sign(Math.min(left, 5000)), seconds: Math.min(left, 5000) / 2000, connections: 16, rate: 2000 });
    left -= Math.min(left, 5000);
    if (r.non2xx + r.errors > 0) log(`fill: ${r.non2xx + r.errors} refused`);
  }
  const auths: string[] = [];
  for (let i = 0; i < VERIFIERS; i++) {
    const rs = await node.operator.resource(`verifier-${i}`, `https://api.staging.example/v${i}`);
    auths.push(`Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`);
  }

  const paced = async (name: string) => loadInBackground(dir, name, { url: node.url, requests: await sign(RATE * SECONDS + 100), seconds: SECONDS, connections: 32, rate: RATE });
  log(`minting at ${RATE}/s for ${SECONDS} s, no storm`);
  const quiet = await paced('quiet');
  log(`minting at ${RATE}/s for ${SECONDS} s, ${VERIFIERS} verifiers reconnecting after 2 s`);
  const during = paced('storm');
  await new Promise((r) => setTimeout(r, 2000));
  const t0 = performance.now();
  const reconnected = await Promise.allSettled(auths.map((a) => reconnect(node.url, a)));
  const stormMs = performance.now() - t0;
  const storm = await during;
  const failed = reconnected.filter((r) => r.status === 'rejected').length;

  console.log(`| minting at ${RATE}/s, ${ISSUED.toLocaleString('en')} records in the audit window | p50 | p99 | non-2xx |
|---|---|---|---|
| no reconnects | ${quiet.p50} ms | ${quiet.p99} ms | ${quiet.non2xx + quiet.errors} |
| ${VERIFIERS} verifiers reconnect with \`?from=recent\` | ${storm.p50} ms | ${storm.p99} ms | ${storm.non2xx + storm.errors} |

p99 with the storm ÷ without: ${(storm.p99 / quiet.p99).toFixed(2)}× (target ≤ 2×). Every verifier had its backlog after ${Math.round(stormMs).toLocaleString('en')} ms${failed ? ` (${failed} failed)` : ''}.
`);
} finally {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}
