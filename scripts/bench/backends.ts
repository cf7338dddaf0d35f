// Minting on each store, in one run (issue 22): the capability-token load of `npm run bench`
// against one broker on SQLite, one on PostgreSQL and two on one PostgreSQL database (each node
// driven by its own load generator with half the connections; the figure is their sum).
// Prints a markdown table on stdout.   SECONDS=10  CONNECTIONS=32  WARM=3
// Needs the PostgreSQL server of STINT_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
// Run: node --import tsx scripts/bench/backends.ts   (a row of `npm run bench`)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISSUER, startNode, type Node } from '../../test/multi-node/nodes.js';
import { pgDatabase } from '../../test/helpers/postgres.js';
import type { LoadSpec } from './load.js';
import { exchangeSigner } from './presign.js';
import { loadInBackground } from './spawn-load.js';

const SECONDS = Number(process.env.SECONDS ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const WARM = Number(process.env.WARM ?? 3); // seconds of warm-up per node
const dir = mkdtempSync(join(tmpdir(), 'stint-backends-'));
const log = (m: string) => console.error(`bench: ${m}`);

const load = (name: string, spec: LoadSpec) => loadInBackground(dir, name, spec);

/** Exchanges for one task, pre-signed, sent to every node in `nodes` at once. */
async function mint(label: string, nodes: Node[]): Promise<string> {
  const sign = await exchangeSigner(await nodes[0]!.operator.agent(`bench-${label.replace(/\W+/g, '-')}`, 'alice', ['fix-credentials']), ISSUER);
  const connections = Math.max(1, Math.floor(CONNECTIONS / nodes.length));
  // A short warm-up of each node first (JIT, caches, pools), then the measured run.
  await Promise.all(nodes.map(async (n, i) => load(`${label}-warm-${i}`, { url: n.url, requests: await sign(1000 * WARM), seconds: WARM, connections })));
  const specs = await Promise.all(nodes.map(async (n) => ({ url: n.url, requests: await sign(Math.ceil((3000 / nodes.length) * SECONDS * 1.2)), seconds: SECONDS, connections })));
  log(`${label}: ${SECONDS} s, ${CONNECTIONS} connections`);
  const runs = await Promise.all(specs.map((s, i) => load(`${label}-${i}`, s)));
  const rps = runs.reduce((n, r) => n + r.rps, 0);
  const p50 = Math.max(...runs.map((r) => r.p50));
  const p99 = Math.max(...runs.map((r) => r.p99));
  const bad = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
  return `| ${label} | ${Math.round(rps).toLocaleString('en')} | ${p50} ms | ${p99} ms | ${bad} |`;
}

const rows: string[] = [];
const started: Node[] = [];
const db = await pgDatabase();
try {
  const sqlite = await startNode('sqlite', '', { STINT_DATABASE_URL: '', STINT_DB: join(dir, 'stint.db') });
  started.push(sqlite);
  rows.push(await mint('SQLite, one broker', [sqlite]));
  await sqlite.stop();
  const a = await startNode('pg-a', db.url);
  started.push(a);
  rows.push(await mint('PostgreSQL, one broker', [a]));
  const b = await startNode('pg-b', db.url);
  started.push(b);
  rows.push(await mint('PostgreSQL, two brokers on one database', [a, b]));
} finally {
  for (const n of started) await n.stop().catch(() => undefined);
  await db.drop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
console.log(`| capability token (RFC 8693 exchange, DPoP), ${SECONDS} s, ${CONNECTIONS} connections in all | requests/s | p50 | p99 | non-2xx |
|---|---|---|---|---|
${rows.join('\n')}
`);
