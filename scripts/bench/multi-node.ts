// Several brokers, one PostgreSQL (issue 22's figures): three broker processes on one database;
// a revocation or a stop made through C, timed from C's response to the first refusal through
// A and through B, and to the event's arrival on A's and B's /v1/events streams.
// Run: npm run bench:multi-node   (RUNS=100; STINT_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
import { ADMIN, openStream, startNode, type Node } from '../../test/multi-node/nodes.js';
import { pgDatabase } from '../../test/helpers/postgres.js';
import { ms, summary } from './stats.js';

const RUNS = Number(process.env.RUNS ?? 100);
const CONFIG = 'https://api.staging.example/config';
const db = await pgDatabase();
const nodes: Node[] = [];
try {
  for (const n of ['a', 'b', 'c']) nodes.push(await startNode(n, db.url));
  const [a, b, c] = nodes as [Node, Node, Node];
  const rs = await a.operator.resource('config', CONFIG);
  const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;
  const streams = await Promise.all([a, b].map((n) => openStream(n.url, basic)));

  /** Time from t0 until `token` is refused through `n` (introspection asked back to back). */
  let stale = 0; // introspections that still said active after C's response
  const refusedAfter = async (n: Node, token: string, t0: number) => {
    for (;;) {
      if ((await n.operator.introspect(token)).active === false) return performance.now() - t0;
      stale++;
      if (performance.now() - t0 > 5000) throw new Error(`still active through ${n.name} after 5 s`);
    }
  };
  const heardAfter = async (s: Awaited<ReturnType<typeof openStream>>, match: (e: { type: string; task_id: string | null }) => boolean, t0: number) => {
    for (;;) {
      if (s.events.some(match)) return performance.now() - t0;
      if (performance.now() - t0 > 5000) throw new Error('event not on the stream after 5 s');
      await new Promise((r) => setImmediate(r));
    }
  };

  const kinds = ['task revoked', 'agent revoked (scope)', 'task stopped, agent locked (signal)'] as const;
  const refusal: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
  const stream: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
  console.error(`${RUNS} runs on three nodes…`);
  for (let i = 0; i < RUNS; i++) {
    const kind = kinds[i % kinds.length]!;
    const agent = await a.operator.agent(`bot-${i}`, 'o', ['fix-credentials']);
    const task = await agent.openTask('fix-credentials', 'staging', 'p');
    const cap = (await (await b.as(agent)).exchange(task.body.access_token, 'config.read')).body.access_token as string;
    const taskId = task.body.task_id as string;
    let res: Response;
    if (kind === 'task revoked') {
      res = await fetch(`${c.url}/v1/tasks/${taskId}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` } });
    } else if (kind === 'agent revoked (scope)') {
      res = await fetch(`${c.url}/v1/revocations`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ agent: agent.clientId }) });
    } else {
      // The agent presents someone else's token with its own proof: it is stopped and locked.
      const other = await a.operator.agent(`victim-${i}`, 'o', ['fix-credentials']);
      const ot = await other.openTask('fix-credentials', 'staging', 'v');
      const leaked = (await other.exchange(ot.body.access_token, 'config.read')).body.access_token as string;
      const proof = (await agent.request(CONFIG, leaked, { method: 'POST' })).headers.get('DPoP');
      res = await fetch(`${c.url}/v1/signals`, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'credential_substitution', token: leaked, dpop: proof, htm: 'POST', htu: CONFIG }) });
    }
    await res.arrayBuffer();
    const t0 = performance.now();
    if (!res.ok) throw new Error(`${kind}: ${res.status}`);
    const match =
      kind === 'agent revoked (scope)'
        ? (e: { type: string; scope?: unknown }) => e.type === 'scope.revoked' && e.scope === `agent:${agent.clientId}`
        : (e: { type: string; task_id: string | null }) => e.task_id === taskId && (e.type === 'task.revoked' || e.type === 'task.stopped');
    const [ra, rb, sa, sb] = await Promise.all([refusedAfter(a, cap, t0), refusedAfter(b, cap, t0), heardAfter(streams[0]!, match as never, t0), heardAfter(streams[1]!, match as never, t0)]);
    refusal[kind]!.push(Math.max(ra, rb));
    stream[kind]!.push(Math.max(sa, sb));
  }
  const all = (m: Record<string, number[]>) => Object.values(m).flat();
  const row = (label: string, xs: number[]) => {
    const s = summary(xs);
    return `| ${label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`;
  };
  console.log(`
Three broker processes, one PostgreSQL database (loopback); made through C, timed from C's response.

| first refusal through A and B (introspection) | runs | p50 | p99 | max |
|---|---|---|---|---|
${kinds.map((k) => row(k, refusal[k]!)).join('\n')}
${row('**all**', all(refusal))}

Introspections through A or B that still answered active after C's response: ${stale} (each node reads the revocation rows on every check; the figure above is the round trip of the first check).

| event on A's and B's /v1/events streams | runs | p50 | p99 | max |
|---|---|---|---|---|
${kinds.map((k) => row(k, stream[k]!)).join('\n')}
${row('**all**', all(stream))}
`);
  for (const s of streams) s.close();
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  await db.drop();
}
