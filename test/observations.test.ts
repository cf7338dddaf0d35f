import { describe, expect, it } from 'vitest';
import { MAX_TEXT } from '../src/core/cap.js';
import { flushObservations } from '../src/core/observations.js';
import { record } from '../src/core/trajectory.js';
import { dpopProof } from './helpers/agent.js';
import { ISSUER, testBroker, type TestBroker } from './helpers/broker.js';

// Issue 21 item 7: what an agent can append, it can append until the disk is full. Routine allowed
// calls are counted per task and interval; text per record is capped. Row counts, not bytes.

const call = (agentId: string, taskId: string, i: number, o: { stage?: string; argv?: string[]; tool?: string } = {}) => ({
  subject: { type: 'agent', id: agentId, properties: { task_id: taskId } },
  action: { name: 'tool_call', properties: { stage: o.stage ?? 'pre', tool: o.tool ?? 'Bash', credentials: [], exposed: [], calls: [{ type: 'command', argv: o.argv ?? ['ls', '-la'] }], call_hash: i.toString(16).padStart(32, '0') } },
  resource: { type: 'tool', id: 'Bash' },
  context: {},
});

async function setup(o: { dbPath?: string } = {}) {
  const b = await testBroker(o);
  const agent = await b.registerAgent();
  const key = await agent.dpopKey();
  const task = (await agent.openTask()).body as { access_token: string; task_id: string };
  const post = async (path: '/access/v1/evaluation' | '/access/v1/evaluations', body: unknown) => {
    const proof = await dpopProof(key, 'POST', `${ISSUER}${path}`, { nowSec: b.nowSec(), accessToken: task.access_token });
    const res = await b.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `DPoP ${task.access_token}`, DPoP: proof }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const batch = (from: number, n: number, o?: Parameters<typeof call>[3]) => ({ evaluations: Array.from({ length: n }, (_, i) => call(agent.clientId, task.task_id, from + i, o)) });
  const auditRows = async () => {
    await b.core.store.flush();
    return (await b.core.store.audit.list(0, 1_000_000)).length;
  };
  const events = async () => {
    await b.core.store.flush();
    return b.core.store.tasks.events(task.task_id);
  };
  return { b, agent, task, post, batch, auditRows, events };
}

const close = (b: TestBroker) => b.close();

describe('routine observations are aggregated', () => {
  it('1,000 allowed evaluations by one task add one audit record and one trajectory event per interval', async () => {
    const s = await setup();
    const auditBefore = await s.auditRows();
    const eventsBefore = (await s.events()).length;
    for (let i = 0; i < 1000; i += 16) {
      const r = await s.post('/access/v1/evaluations', s.batch(i, Math.min(16, 1000 - i)));
      expect(r.status).toBe(200);
      expect(r.body.evaluations.every((e: any) => e.decision === true)).toBe(true);
    }
    expect(await s.auditRows()).toBe(auditBefore); // nothing yet: counted in memory
    expect(await flushObservations(s.b.core)).toBe(0); // the interval has not ended
    s.b.clock.advance(61);
    expect(await flushObservations(s.b.core)).toBe(1);
    expect(await s.auditRows()).toBe(auditBefore + 1);
    const added = (await s.events()).slice(eventsBefore);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: 'tool', detail: { type: 'tool_call.observed', count: 1000, calls: [{ tool: 'Bash', stage: 'pre', verdict: 'allowed', count: 1000 }] } });
    expect((added[0]!.detail.samples as unknown[]).length).toBeLessThanOrEqual(3);
    expect((await (await s.b.admin('/v1/audit/verify')).json()) as any).toMatchObject({ ok: true });
    await close(s.b);
  });

  it("the next call after the interval writes the last one; showing the task writes what is pending", async () => {
    const s = await setup();
    const before = await s.auditRows();
    expect((await s.post('/access/v1/evaluations', s.batch(0, 5))).status).toBe(200);
    s.b.clock.advance(61);
    expect((await s.post('/access/v1/evaluation', call(s.agent.clientId, s.task.task_id, 9, { stage: 'post' }))).status).toBe(200);
    expect(await s.auditRows()).toBe(before + 1);
    const shown = (await (await s.b.admin(`/v1/tasks/${s.task.task_id}`)).json()) as any;
    const observed = shown.events.filter((e: any) => e.detail.type === 'tool_call.observed');
    expect(observed.map((e: any) => e.detail.count)).toEqual([5, 1]);
    expect(observed[1].detail.calls).toEqual([{ tool: 'Bash', stage: 'post', verdict: 'recorded', count: 1 }]);
    await close(s.b);
  });

  it('a refusal is its own record, after the counts that came before it', async () => {
    const s = await setup();
    expect((await s.post('/access/v1/evaluations', s.batch(0, 3))).status).toBe(200);
    // Outside the task's environment: refused on the spot.
    const refused = await s.post('/access/v1/evaluation', {
      ...call(s.agent.clientId, s.task.task_id, 50),
      action: { name: 'tool_call', properties: { stage: 'pre', tool: 'Bash', credentials: [], exposed: [], calls: [{ type: 'sql', statements: ['drop_database'], host: 'db.prod.example' }] } },
    });
    expect(refused.body.decision).toBe(false);
    const kinds = (await s.events()).map((e) => e.detail.type);
    const observed = kinds.indexOf('tool_call.observed');
    expect(observed).toBeGreaterThan(-1);
    expect(kinds.slice(observed + 1).some((t) => t !== 'tool_call.observed')).toBe(true);
    await close(s.b);
  });
});

describe('a graceful stop', () => {
  it('writes the counts still in memory before the store closes', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { openSqlite } = await import('../src/adapters/sqlite/node.js');
    const dir = mkdtempSync(join(tmpdir(), 'stint-obs-'));
    try {
      const s = await setup({ dbPath: join(dir, 'b.db') });
      expect((await s.post('/access/v1/evaluations', s.batch(0, 7))).status).toBe(200);
      await s.b.close();
      const { sqlite, close: done } = openSqlite(join(dir, 'b.db'));
      const rows = sqlite.prepare("select data from audit where type = 'tool_call.observed'").all() as { data: string }[];
      expect(rows.map((r) => JSON.parse(r.data).count)).toEqual([7]);
      await done();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('text per record is capped', () => {
  it('a 100 KB command is refused at the edge (413, nothing appended)', async () => {
    const s = await setup();
    const before = await s.auditRows();
    const r = await s.post('/access/v1/evaluation', call(s.agent.clientId, s.task.task_id, 1, { argv: ['echo', 'x'.repeat(100_000)] }));
    expect(r.status).toBe(413);
    expect(await s.auditRows()).toBe(before);
    // Under the body limit, each argument past 1,024 characters is refused too.
    const long = await s.post('/access/v1/evaluation', call(s.agent.clientId, s.task.task_id, 2, { argv: ['echo', 'x'.repeat(2000)] }));
    expect(long.status).toBe(400);
    expect(long.body.error).toBe('invalid_request');
    expect(await s.auditRows()).toBe(before);
    await close(s.b);
  });

  it('a 100 KB string that reaches the log anyway is stored capped, with a marker, in the audit record and the trajectory', async () => {
    const s = await setup();
    const command = 'rm -rf /tmp/x; '.repeat(7000); // ≈100 KB
    await record(s.b.core, { taskId: s.task.task_id, kind: 'tool', type: 'test.long', actor: 'tester', detail: { command, many: Array.from({ length: 500 }, (_, i) => i) } });
    await s.b.core.store.flush();
    const [stored] = (await s.b.core.store.audit.list(0, 10_000)).filter((r) => r.type === 'test.long');
    const text = stored!.data.command as string;
    expect(text.length).toBeLessThan(MAX_TEXT + 64);
    expect(text.startsWith(command.slice(0, MAX_TEXT))).toBe(true);
    expect(text).toMatch(/…\[truncated: \d+ more characters\]$/);
    expect((stored!.data.many as unknown[]).length).toBe(65);
    expect(JSON.stringify(stored!.data).length).toBeLessThan(2048);
    const event = (await s.events()).find((e) => e.detail.type === 'test.long')!;
    expect(event.detail.command).toBe(text);
    expect((await (await s.b.admin('/v1/audit/verify')).json()) as any).toMatchObject({ ok: true });
    await close(s.b);
  });
});
