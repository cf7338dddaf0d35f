import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgDatabase, postgresAvailable } from '../helpers/postgres.js';
import { ISSUER, openStream, startNode, type Node } from './nodes.js';

// Three broker processes on one PostgreSQL database (CONTRACT.md, "Several brokers, one
// database"): what is done through one node is in force on the others, every node's events are
// on every node's stream, single-use stays single-use, and the audit log stays one chain.
const available = await postgresAvailable();
const CONFIG = 'https://api.staging.example/config';

describe.runIf(available)('several brokers, one PostgreSQL database', () => {
  let db: Awaited<ReturnType<typeof pgDatabase>>;
  let nodes: Node[] = [];
  let a: Node, b: Node, c: Node;

  beforeAll(async () => {
    db = await pgDatabase();
    // Started together: migrations and the first signing key happen once, under the start-up lock.
    nodes = await Promise.all(['a', 'b', 'c'].map((n) => startNode(n, db.url)));
    [a, b, c] = nodes as [Node, Node, Node];
  }, 120_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
  });

  const inactiveOn = (n: Node, token: string) => expect.poll(async () => (await n.operator.introspect(token)).active, { timeout: 5000, interval: 10 }).toBe(false);

  it('one signing key for all: a token minted on one node is active on every node', async () => {
    const agent = await a.operator.agent('bot', 'alice', ['fix-credentials']);
    const task = await agent.openTask('fix-credentials', 'staging', 'p');
    expect(task.status).toBe(200);
    const cap = await (await b.as(agent)).exchange(task.body.access_token, 'config.read');
    expect(cap.status).toBe(200);
    for (const n of nodes) expect((await n.operator.introspect(cap.body.access_token)).active).toBe(true);
    const jwks = await Promise.all(nodes.map(async (n) => (await (await fetch(`${n.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }));
    expect(new Set(jwks.map((j) => j.keys.map((k) => k.kid).join(','))).size).toBe(1);
  });

  it('a task opened through A, a capability through B, revoked through C: refused through A and B', async () => {
    const agent = await a.operator.agent('bot-rev', 'alice', ['fix-credentials']);
    const task = await agent.openTask('fix-credentials', 'staging', 'p');
    const cap = await (await b.as(agent)).exchange(task.body.access_token, 'config.read');
    expect(cap.status).toBe(200);
    expect((await c.operator.call('POST', `/v1/tasks/${task.body.task_id}/revoke`)).status).toBe(200);
    await inactiveOn(a, cap.body.access_token);
    await inactiveOn(b, cap.body.access_token);
    // And the task token can no longer be exchanged anywhere.
    for (const n of [a, b]) expect((await (await n.as(agent)).exchange(task.body.access_token, 'config.read')).status).toBe(400);
  });

  it('an agent revoked through C is refused through A and B', async () => {
    const agent = await a.operator.agent('bot-scope', 'alice', ['fix-credentials']);
    const task = await agent.openTask('fix-credentials', 'staging', 'p');
    const cap = await (await b.as(agent)).exchange(task.body.access_token, 'config.read');
    expect((await c.operator.revoke({ agent: agent.clientId })).status).toBe(200);
    await inactiveOn(a, cap.body.access_token);
    await inactiveOn(b, cap.body.access_token);
  });

  it('a stop raised through C ends the task and locks the agent on A and B; the event is on every stream', async () => {
    const rs = await a.operator.resource('config', CONFIG);
    const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;
    // Every node's stream, open before the stop.
    const streams = await Promise.all(nodes.map((n) => openStream(n.url, basic)));
    const victim = await a.operator.agent('victim', 'carol', ['fix-credentials']);
    const vt = await victim.openTask('fix-credentials', 'staging', 'v');
    const leaked = (await victim.exchange(vt.body.access_token, 'config.read')).body.access_token as string;
    const thief = await b.operator.agent('thief', 'mallory', ['fix-credentials']);
    const tt = await (await b.as(thief)).openTask('fix-credentials', 'staging', 't');
    const tcap = (await (await b.as(thief)).exchange(tt.body.access_token, 'config.read')).body.access_token as string;
    const res = await fetch(`${c.url}/v1/signals`, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/json' },
      // The thief's request with the victim's token, its DPoP proof by the thief's key, as the service saw it.
      body: JSON.stringify({ type: 'credential_substitution', token: leaked, dpop: (await (await b.as(thief)).request(CONFIG, leaked, { method: 'POST' })).headers.get('DPoP'), htm: 'POST', htu: CONFIG }),
    });
    expect(res.status).toBeLessThan(300);
    await inactiveOn(a, tcap);
    await inactiveOn(b, tcap);
    // The thief is locked everywhere: no new task through any node.
    for (const n of nodes) {
      const again = await (await n.as(thief)).openTask('fix-credentials', 'staging', 'again');
      expect(again.status).toBeGreaterThanOrEqual(400);
    }
    // The stop raised on C reaches the streams of A, B and C.
    for (const s of streams) await expect.poll(() => s.events.some((e) => e.type === 'task.stopped' && e.task_id === tt.body.task_id), { timeout: 5000 }).toBe(true);
    for (const s of streams) s.close();
  });

  it('every node streams every node\'s events in audit order, with no gaps or repeats', async () => {
    const rs = await a.operator.resource('config2', CONFIG);
    const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;
    const streams = await Promise.all(nodes.map((n) => openStream(n.url, basic)));
    const agents = await Promise.all(nodes.map((n, i) => n.operator.agent(`order-${i}`, 'o', ['fix-credentials'])));
    const tasks = await Promise.all(agents.map(async (ag) => (await ag.openTask('fix-credentials', 'staging', 'p')).body.task_id as string));
    // Revocations through every node, interleaved.
    await Promise.all(tasks.map((id, i) => nodes[i % 3]!.operator.call('POST', `/v1/tasks/${id}/revoke`)));
    for (const s of streams) await expect.poll(() => tasks.every((id) => s.events.some((e) => e.task_id === id)), { timeout: 5000 }).toBe(true);
    const ids = streams.map((s) => s.events.map((e) => e.id));
    for (const list of ids) {
      expect(list).toEqual([...list].sort((x, y) => x - y));
      expect(new Set(list).size).toBe(list.length);
    }
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    for (const s of streams) s.close();
  });

  it('single-use stays single-use across nodes: one client assertion and DPoP proof sent to all three, one token', async () => {
    const agent = await a.operator.agent('replayer', 'o', ['fix-credentials']);
    let captured: { body: string; headers: Headers } | undefined;
    const capture = (async (_url: string, init: RequestInit) => {
      captured = { body: String(init.body), headers: new Headers(init.headers) };
      return new Response('{}', { headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch;
    const { AgentClient } = await import('../../src/client/agent.js');
    await new AgentClient({ issuer: ISSUER, clientId: agent.clientId, key: agent.key, dpopKey: await agent.dpopKey(), fetch: capture }).openTask('fix-credentials', 'staging', 'once');
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        nodes.map((n) => fetch(`${n.url}/token`, { method: 'POST', headers: captured!.headers, body: captured!.body }).then((r) => r.status)),
      );
      expect(answers.filter((s) => s === 200)).toHaveLength(round === 0 ? 1 : 0);
    }
  });

  it('a node killed (SIGKILL) takes nothing with it: a revocation through another holds, and the node restarts on the same key', async () => {
    const agent = await a.operator.agent('bot-kill', 'alice', ['fix-credentials']);
    const task = await agent.openTask('fix-credentials', 'staging', 'p');
    const cap = (await (await b.as(agent)).exchange(task.body.access_token, 'config.read')).body.access_token as string;
    await b.kill();
    expect((await c.operator.call('POST', `/v1/tasks/${task.body.task_id}/revoke`)).status).toBe(200);
    await inactiveOn(a, cap);
    const restarted = await startNode('b2', db.url);
    nodes[1] = restarted;
    b = restarted;
    await inactiveOn(b, cap);
    // The restarted node loads the one key from the database: what A mints is active on it.
    const other = await a.operator.agent('bot-kill-2', 'alice', ['fix-credentials']);
    const t2 = await other.openTask('fix-credentials', 'staging', 'p');
    const c2 = (await other.exchange(t2.body.access_token, 'config.read')).body.access_token as string;
    expect((await b.operator.introspect(c2)).active).toBe(true);
  }, 120_000);

  it('the audit log is one hash chain, verified through every node', async () => {
    for (const n of nodes) {
      const v = await n.operator.call('GET', '/v1/audit/verify');
      expect(v.status).toBe(200);
      expect(v.body.ok).toBe(true);
      expect(v.body.count).toBeGreaterThan(10);
    }
  });

  it('readiness says each node is current', async () => {
    for (const n of nodes) {
      const r = (await (await fetch(`${n.url}/readyz`)).json()) as { checks: Record<string, string> };
      expect(r.checks.current).toBe('ok');
    }
  });
});

if (!available) describe.skip('several brokers, one PostgreSQL database (no server)', () => it('needs PostgreSQL', () => undefined));
