// Issue 22's fault run: three broker processes on one PostgreSQL database under a fixed-rate load,
// while nodes are SIGKILLed and restarted and the database goes away and comes back.
//
//   npm run faults:multi-node      RATE=40 (exchanges/s)  SECONDS=30
//   RESTART=1 npm run faults:multi-node   restarts the real server (pg_ctlcluster) instead of cutting
//                                         every connection at a relay; only on a machine of your own
//
// What must hold, counted and printed (the script exits 1 if any is not 0):
// - lost revocations: a revocation answered 200, then its capability seen active through any node;
// - tokens issued for a task after its revocation was answered;
// - tokens issued while the database was unreachable (a node that could not confirm it was current);
// - single-use broken: one client assertion + DPoP proof sent to all three nodes at once, more than
//   one token (repeated once a second through the whole run).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { AgentClient } from '../../src/client/agent.js';
import { ISSUER, startNode, type Node } from '../../test/multi-node/nodes.js';
import { relay } from '../../test/multi-node/relay.js';
import { pgDatabase } from '../../test/helpers/postgres.js';

const RATE = Number(process.env.RATE ?? 40);
const SECONDS = Number(process.env.SECONDS ?? 30);
const REAL_RESTART = process.env.RESTART === '1';
const log = (m: string) => console.error(`faults: ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const db = await pgDatabase();
const target = new URL(db.url);
const gate = await relay(target);
const via = new URL(db.url);
via.hostname = '127.0.0.1';
via.port = String(gate.port);
const nodeUrl = REAL_RESTART ? db.url : via.toString();
const nodes: (Node | undefined)[] = [];
const counts = { requests: 0, ok: 0, unavailable: 0, notUnavailable: 0, connection: 0, other: 0 };
const violations = { lostRevocations: 0, afterRevocation: 0, whileUnreachable: 0, singleUseBroken: 0 };
const windows: { from: number; to: number }[] = []; // database unreachable, by the script's clock
const revoked = new Map<string, { at: number; caps: string[] }>(); // task id → when its revoke was answered
const events: string[] = [];
const others = new Map<string, number>(); // other answers by status and error code

try {
  for (const n of ['a', 'b', 'c']) nodes.push(await startNode(n, nodeUrl));
  const any = () => nodes.find((n) => n && n.child.exitCode === null)!;
  const agents: AgentClient[] = [];
  for (let i = 0; i < 6; i++) agents.push(await any().operator.agent(`load-${i}`, 'ops', ['fix-credentials']));

  /** A live task per agent (a new one once its task is revoked). */
  const tasks = new Map<AgentClient, { id: string; token: string }>();
  const openFor = async (agent: AgentClient) => {
    const t = await agent.openTask('fix-credentials', 'staging', 'fault run');
    if (t.status === 200) tasks.set(agent, { id: t.body.task_id, token: t.body.access_token });
  };
  for (const a of agents) await openFor(a);

  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const unreachableAt = (from: number, to: number) => windows.some((w) => from >= w.from && to <= w.to);

  // The load: one exchange through a random node every 1/RATE s.
  const exchangeOnce = async () => {
    const agent = agents[Math.floor(Math.random() * agents.length)]!;
    const task = tasks.get(agent);
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    if (!task || !node || node.child.exitCode !== null) return;
    const from = now();
    counts.requests++;
    try {
      const res = await (await node.as(agent)).exchange(task.token, 'config.read');
      const to = now();
      if (res.status === 200) {
        counts.ok++;
        const r = revoked.get(task.id);
        if (r && from > r.at) violations.afterRevocation++;
        if (unreachableAt(from, to)) violations.whileUnreachable++;
        r?.caps.push(res.body.access_token);
        if (!r) (capsOf.get(task.id) ?? capsOf.set(task.id, []).get(task.id)!).push(res.body.access_token);
      } else if (res.status === 503) {
        counts.unavailable++;
        if (res.body?.error !== 'temporarily_unavailable') counts.notUnavailable++;
      } else {
        counts.other++;
        const code = `${res.status} ${res.body?.error}`;
        others.set(code, (others.get(code) ?? 0) + 1);
      }
    } catch {
      counts.connection++; // the node was killed under the request
    }
  };
  const capsOf = new Map<string, string[]>();

  // A revocation through a random node every 2 s; the agent opens a new task.
  const revokeOne = async () => {
    const agent = agents[Math.floor(Math.random() * agents.length)]!;
    const task = tasks.get(agent);
    const node = any();
    if (!task) return;
    try {
      const r = await node.operator.call('POST', `/v1/tasks/${task.id}/revoke`);
      if (r.status === 200) {
        revoked.set(task.id, { at: now(), caps: capsOf.get(task.id) ?? [] });
        tasks.delete(agent);
        await openFor(agent).catch(() => undefined);
      }
    } catch {
      // node killed under the call: the revocation may or may not have happened; not counted
    }
  };

  // Single-use: one captured token request, replayed to all three nodes at once.
  const singleUse = async () => {
    const agent = agents[0]!;
    let captured: { body: string; headers: Headers } | undefined;
    const capture = (async (_url: string, init: RequestInit) => {
      captured = { body: String(init.body), headers: new Headers(init.headers) };
      return new Response('{}', { headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch;
    await new AgentClient({ issuer: ISSUER, clientId: agent.clientId, key: agent.key, dpopKey: await agent.dpopKey(), fetch: capture }).openTask('fix-credentials', 'staging', 'once');
    const answers = await Promise.all(
      nodes.map((n) =>
        n && n.child.exitCode === null
          ? fetch(`${n.url}/token`, { method: 'POST', headers: captured!.headers, body: captured!.body }).then((r) => r.status, () => 0)
          : 0,
      ),
    );
    if (answers.filter((s) => s === 200).length > 1) violations.singleUseBroken++;
  };

  // The faults, on a schedule relative to the run's length.
  const faults = async () => {
    const at = (f: number) => sleep(Math.max(0, SECONDS * 1000 * f - now()));
    await at(0.15);
    await killAndRestart(1);
    await at(0.4);
    const from = now();
    events.push(`${(from / 1000).toFixed(1)} s: database ${REAL_RESTART ? 'restarted' : 'cut off'}`);
    if (REAL_RESTART) {
      const version = readdirSync('/etc/postgresql')[0]!;
      windows.push({ from: from + 100, to: Infinity });
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
      windows[windows.length - 1]!.to = now() - 100;
    } else {
      gate.cut();
      windows.push({ from, to: Infinity });
      await sleep(4000);
      windows[windows.length - 1]!.to = now();
      gate.restore();
    }
    events.push(`${(now() / 1000).toFixed(1)} s: database back`);
    await at(0.65);
    await killAndRestart(2);
    await at(0.8);
    await killAndRestart(0);
  };
  const killAndRestart = async (i: number) => {
    events.push(`${(now() / 1000).toFixed(1)} s: node ${nodes[i]!.name} SIGKILLed`);
    await nodes[i]!.kill();
    nodes[i] = undefined;
    nodes[i] = await startNode(`${'abc'[i]}${Math.floor(now())}`, nodeUrl);
    events.push(`${(now() / 1000).toFixed(1)} s: node restarted`);
  };

  log(`${SECONDS} s at ${RATE} exchanges/s through three nodes, with faults`);
  const pending: Promise<unknown>[] = [faults()];
  let tick = 0;
  while (now() < SECONDS * 1000) {
    pending.push(exchangeOnce());
    if (tick % (RATE * 2) === RATE) pending.push(revokeOne());
    if (tick % RATE === 0) pending.push(singleUse().catch(() => undefined));
    tick++;
    await sleep(Math.max(0, (tick * 1000) / RATE - now()));
  }
  await Promise.all(pending);

  // Every revocation answered 200 holds through every node, after all the faults.
  for (const [, r] of revoked)
    for (const cap of r.caps)
      for (const n of nodes)
        if (n && (await n.operator.introspect(cap)).active !== false) violations.lostRevocations++;
  const verify = await any().operator.call('GET', '/v1/audit/verify');

  console.log(`\nFault run: three broker processes, one PostgreSQL database, ${SECONDS} s at ${RATE} exchanges/s (${new Date().toISOString()})\n`);
  console.log(events.map((e) => `- ${e}`).join('\n'));
  console.log('\n| requests | 200 | 503 | 503 not `temporarily_unavailable` | connection lost (node killed) | other |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| ${counts.requests} | ${counts.ok} | ${counts.unavailable} | ${counts.notUnavailable} | ${counts.connection} | ${counts.other} |`);
  if (others.size) console.log(`\nother answers: ${[...others].map(([k, v]) => `${k} × ${v}`).join(', ')}`);
  console.log('\n| must be 0 | count |\n|---|---|');
  console.log(`| revocations answered 200, capability active afterwards through some node (${[...revoked.values()].reduce((n, r) => n + r.caps.length, 0)} capabilities of ${revoked.size} revoked tasks checked on 3 nodes) | ${violations.lostRevocations} |`);
  console.log(`| tokens issued for a task after its revocation was answered | ${violations.afterRevocation} |`);
  console.log(`| tokens issued while the database was unreachable | ${violations.whileUnreachable} |`);
  console.log(`| one request sent to three nodes at once, more than one token (${Math.ceil(SECONDS)} tries) | ${violations.singleUseBroken} |`);
  console.log(`\naudit chain after the run: ${verify.body.ok ? `verifies (${verify.body.count} records)` : `BROKEN: ${JSON.stringify(verify.body)}`}`);
  if (Object.values(violations).some((v) => v > 0) || !verify.body.ok) process.exitCode = 1;
} finally {
  for (const n of nodes) await n?.stop().catch(() => undefined);
  await gate.close();
  await db.drop().catch(() => undefined);
}
