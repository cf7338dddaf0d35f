import { describe, expect, it } from 'vitest';
import { ADMIN, testBroker } from './helpers/broker.js';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import { AuditLog } from '../src/core/audit.js';
import { FrozenClock } from './helpers/clock.js';

async function busyBroker() {
  const b = await testBroker();
  const agent = await b.registerAgent();
  const task = await agent.openTask();
  await agent.exchange(task.body.access_token, { scope: 'config.read' });
  await agent.exchange(task.body.access_token, { scope: 'db.read' }); // a denial
  await b.admin(`/v1/tasks/${task.body.task_id}/revoke`, {});
  return b;
}

const verify = async (b: Awaited<ReturnType<typeof testBroker>>) => (await (await b.admin('/v1/audit/verify')).json()) as any;

describe('hash-chained audit log', () => {
  it('records every decision and verifies', async () => {
    const b = await busyBroker();
    const res = await b.admin('/v1/audit');
    expect(res.headers.get('Content-Type')).toBe('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['agent.registered', 'task.opened', 'capability.issued', 'capability.denied', 'task.revoked']);
    lines.forEach((l, i) => {
      expect(l.seq).toBe(i + 1);
      if (i > 0) expect(l.prev_hash).toBe(lines[i - 1].hash);
    });
    expect(await verify(b)).toMatchObject({ ok: true, count: 5 });
  });

  it('detects an edited record', async () => {
    const b = await busyBroker();
    b.sqlite.prepare(`update audit set data = json_set(data, '$.capabilities[0]', 'config.write') where seq = 3`).run();
    expect(await verify(b)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('detects a removed record and a re-linked forgery', async () => {
    const b = await busyBroker();
    b.sqlite.prepare('delete from audit where seq = 2').run();
    expect(await verify(b)).toMatchObject({ ok: false, brokenAt: 2 });
    const c = await busyBroker();
    c.sqlite.prepare(`update audit set prev_hash = 'x' where seq = 4`).run();
    expect(await verify(c)).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it('is operator-only', async () => {
    const b = await testBroker();
    expect((await b.request('/v1/audit')).status).toBe(401);
    expect((await b.request('/v1/audit/verify', { headers: { Authorization: `Bearer ${ADMIN}x` } })).status).toBe(401);
  });
});

describe('fail closed', () => {
  it('issues nothing when the audit log cannot be written', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    b.sqlite.exec(`create trigger no_audit before insert on audit begin select raise(abort, 'disk full'); end;`);
    const opened = await agent.openTask();
    expect(opened.status).toBe(503);
    expect(opened.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(opened.body.access_token).toBeUndefined();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(cap.status).toBe(503);
    expect(cap.body.access_token).toBeUndefined();
    // The task opened while the log was down never becomes usable.
    const tasks = b.sqlite.prepare(`select status from tasks order by created_at`).all() as { status: string }[];
    expect(tasks.map((t) => t.status)).toEqual(['active', 'revoked']);
  });

  it('answers nothing that a failed commit takes back', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    // Writes are grouped into one commit per turn; make that commit fail.
    b.sqlite.pragma('foreign_keys = ON');
    b.sqlite.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY); CREATE TABLE child (p TEXT REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER poison AFTER INSERT ON audit BEGIN INSERT INTO child VALUES ('missing'); END;`);
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(cap.status).toBe(503);
    expect(cap.body.error).toBe('temporarily_unavailable');
    expect(cap.body.access_token).toBeUndefined();
    b.sqlite.exec('DROP TRIGGER poison');
    // The chain is intact: the rolled-back record is not in it, and the next append follows on.
    expect((await agent.exchange(task.body.access_token, { scope: 'config.read' })).status).toBe(200);
    expect(await verify(b)).toMatchObject({ ok: true });
  });

  it('issues nothing when the store cannot be read', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    b.sqlite.exec('drop table tasks');
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(cap.status).toBe(503);
    expect(cap.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(cap.body.access_token).toBeUndefined();
    expect((await b.introspect(task.body.access_token)).active).toBeUndefined();
  });
});

describe('refusals are evidence', () => {
  it('records refused token requests once each (bad DPoP proof, outside the ceiling)', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    await agent.openTask(undefined, undefined, { proof: 'garbage' });
    await agent.exchange(task.body.access_token, { scope: 'db.read' });
    const types = (await (await b.admin('/v1/audit')).text()).trim().split('\n').map((l) => JSON.parse(l).type);
    expect(types).toEqual(['agent.registered', 'task.opened', 'token.refused', 'capability.denied']);
  });
});

describe('appends racing writers in other processes', () => {
  // Brokers on one PostgreSQL take the next seq from each other; each lost race means the log
  // moved, so an append keeps trying (with a jittered wait) rather than failing after a few.
  const losing = (losses: number) => {
    const store = createMemoryStore();
    let left = losses;
    const append = store.audit.append.bind(store.audit);
    store.audit.append = async (r) => (left-- > 0 ? false : append(r));
    return store;
  };

  it('an append that loses the next seq ten times in a row is still written', async () => {
    const log = new AuditLog(losing(10), new FrozenClock());
    const r = await log.append({ type: 'task.opened', actor: 'a' });
    expect(r.seq).toBe(1);
  });

  it('one that never wins fails closed with temporarily_unavailable', async () => {
    const log = new AuditLog(losing(Infinity), new FrozenClock());
    await expect(log.append({ type: 'task.opened', actor: 'a' })).rejects.toMatchObject({ code: 'temporarily_unavailable' });
  });
});
