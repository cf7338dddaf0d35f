import { describe, expect, it } from 'vitest';
import type { Store, TaskRecord } from '../../src/core/ports.js';

// One contract for every implementation of the store port: the drizzle store on better-sqlite3
// and on D1 (inside workerd), and the Node store with raw hot paths. Same answers, same
// single-winner promises.
const task = (id: string, over: Partial<TaskRecord> = {}): TaskRecord => ({
  id,
  agentId: 'agt_1',
  template: 'fix-credentials',
  environment: 'staging',
  purpose: 'p',
  jkt: 'k1',
  status: 'active',
  statusReason: null,
  createdAt: 1000,
  expiresAt: 9000,
  ...over,
});

export function storeContract(name: string, make: () => Store | Promise<Store>) {
  describe(`store contract: ${name}`, () => {
  it('agents: create, get, set status once', async () => {
    const s = await make();
    await s.agents.create({ id: 'agt_1', name: 'a', owner: 'o', jwks: [{ kty: 'OKP', crv: 'Ed25519', x: 'x' }], templates: ['t'], status: 'active', createdAt: 1 });
    expect(await s.agents.get('agt_1')).toEqual({ id: 'agt_1', name: 'a', owner: 'o', jwks: [{ kty: 'OKP', crv: 'Ed25519', x: 'x' }], templates: ['t'], status: 'active', createdAt: 1 });
    expect(await s.agents.get('nope')).toBeUndefined();
    expect(await s.agents.setStatus('agt_1', 'locked')).toBe(true);
    expect(await s.agents.setStatus('agt_1', 'locked')).toBe(false);
  });

  it('tasks: end has exactly one winner; active by key; events in order', async () => {
    const s = await make();
    await s.tasks.create(task('t1'));
    await s.tasks.create(task('t2', { jkt: 'k2' }));
    expect(await s.tasks.get('t1')).toEqual(task('t1'));
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => s.tasks.end('t1', i % 2 ? 'stopped' : 'revoked', `r${i}`)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await s.tasks.activeByKey('k1')).map((t) => t.id)).toEqual([]);
    expect((await s.tasks.activeByKey('k2', 'agt_1')).map((t) => t.id)).toEqual(['t2']);
    expect(await s.tasks.activeByKey('k2', 'agt_other')).toEqual([]);
    await s.tasks.addEvent({ taskId: 't2', at: 10, kind: 'grant', detail: { a: 1 } });
    await s.tasks.addEvent({ taskId: 't2', at: 20, kind: 'denial', detail: { b: 2 } });
    await s.tasks.addEvent({ taskId: 't2', at: 30, kind: 'signal', detail: { c: 3 } });
    expect((await s.tasks.events('t2')).map((e) => e.kind)).toEqual(['grant', 'denial', 'signal']);
    expect(await s.tasks.recentEvents('t2', ['denial', 'signal'], 20)).toEqual([
      { taskId: 't2', at: 20, kind: 'denial', detail: { b: 2 } },
      { taskId: 't2', at: 30, kind: 'signal', detail: { c: 3 } },
    ]);
    expect(await s.tasks.recentEvents('t2', ['denial'], 21)).toEqual([]);
  });

  it('replay: exactly one consumer per (namespace, jti) under concurrency', async () => {
    const s = await make();
    const results = await Promise.all(Array.from({ length: 50 }, () => s.replay.consume('dpop:k', 'jti-1', 10)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await s.replay.consume('dpop:other', 'jti-1', 10)).toBe(true);
  });

  it('revocations: tokens and scope epochs (never lowered)', async () => {
    const s = await make();
    expect(await s.revocations.isTokenRevoked('j')).toBe(false);
    await s.revocations.revokeToken('j', 10);
    await s.revocations.revokeToken('j', 10);
    expect(await s.revocations.isTokenRevoked('j')).toBe(true);
    expect(await s.revocations.epochOf(['all', 'agent:a', 'env:staging'])).toBe(0);
    await s.revocations.raiseEpoch('env:staging', 500);
    await s.revocations.raiseEpoch('env:staging', 300);
    await s.revocations.raiseEpoch('agent:a', 400);
    expect(await s.revocations.epochOf(['all', 'agent:a', 'env:staging'])).toBe(500);
    expect(await s.revocations.epochOf(['all', 'agent:a', 'env:production'])).toBe(400);
  });

  it('tasks.state: the task, its scopes\' latest epoch and a token\'s revocation in one read', async () => {
    const s = await make();
    expect(await s.tasks.state('none', 'j')).toEqual({ epoch: 0, revoked: false });
    await s.tasks.create(task('t1'));
    expect(await s.tasks.state('t1')).toEqual({ task: task('t1'), epoch: 0, revoked: false });
    // Only the task's own scopes count: another agent's and another environment's do not.
    await s.revocations.raiseEpoch('agent:agt_2', 900);
    await s.revocations.raiseEpoch('env:production', 900);
    expect((await s.tasks.state('t1')).epoch).toBe(0);
    await s.revocations.raiseEpoch('env:staging', 300);
    expect((await s.tasks.state('t1')).epoch).toBe(300);
    await s.revocations.raiseEpoch('agent:agt_1', 400);
    expect((await s.tasks.state('t1')).epoch).toBe(400);
    await s.revocations.raiseEpoch('all', 500);
    expect((await s.tasks.state('t1')).epoch).toBe(500);
    expect((await s.tasks.state('t1', 'j')).revoked).toBe(false);
    await s.revocations.revokeToken('j', 10_000);
    expect((await s.tasks.state('t1', 'j')).revoked).toBe(true);
    expect((await s.tasks.state('t1', 'other')).revoked).toBe(false);
  });

  it('audit: append refuses a taken seq; list pages in order', async () => {
    const s = await make();
    const r = (seq: number) => ({ seq, at: seq, type: 't', actor: 'a', taskId: null, data: { n: seq }, prevHash: 'p', hash: `h${seq}` });
    expect(await s.audit.append(r(1))).toBe(true);
    expect(await s.audit.append(r(1))).toBe(false);
    expect(await s.audit.append(r(2))).toBe(true);
    expect((await s.audit.last())?.seq).toBe(2);
    expect(await s.audit.list(1, 10)).toEqual([r(2)]);
  });

  it('purge drops only expired rows', async () => {
    const s = await make();
    await s.replay.consume('n', 'old', 5);
    await s.replay.consume('n', 'new', 50);
    await s.revocations.revokeToken('old', 5);
    await s.purge(10, 100);
    expect(await s.replay.consume('n', 'old', 50)).toBe(true);
    expect(await s.replay.consume('n', 'new', 50)).toBe(false);
    expect(await s.revocations.isTokenRevoked('old')).toBe(false);
  });

  it('purges in bounded batches', async () => {
    const s = await make();
    for (let i = 0; i < 5; i++) await s.replay.consume('n', `old${i}`, 5);
    await s.replay.consume('n', 'live', 50);
    expect(await s.purge(10, 2)).toBe(2);
    expect(await s.purge(10, 2)).toBe(2);
    expect(await s.purge(10, 2)).toBe(1);
    expect(await s.purge(10, 2)).toBe(0);
    expect(await s.replay.consume('n', 'old0', 50)).toBe(true);
    expect(await s.replay.consume('n', 'live', 50)).toBe(false);
  });
  // Listings (GET /v1/tasks, GET /v1/agents): newest first, filters, keyset pages.
  it('listings: tasks newest first, filtered, paged by (createdAt, id) without gaps or repeats', async () => {
    const s = await make();
    await s.tasks.create(task('t_a', { createdAt: 100 }));
    await s.tasks.create(task('t_b', { createdAt: 200, environment: 'prod' }));
    await s.tasks.create(task('t_c', { createdAt: 200, agentId: 'agt_2' }));
    await s.tasks.create(task('t_d', { createdAt: 300, status: 'stopped', statusReason: 'x' }));
    const ids = (rows: TaskRecord[]) => rows.map((t) => t.id);
    expect(ids(await s.listings.tasks({ limit: 10 }))).toEqual(['t_d', 't_c', 't_b', 't_a']);
    expect(ids(await s.listings.tasks({ limit: 10, statuses: ['active'] }))).toEqual(['t_c', 't_b', 't_a']);
    expect(ids(await s.listings.tasks({ limit: 10, statuses: ['stopped', 'revoked'] }))).toEqual(['t_d']);
    expect(ids(await s.listings.tasks({ limit: 10, agentId: 'agt_2' }))).toEqual(['t_c']);
    expect(ids(await s.listings.tasks({ limit: 10, environment: 'prod' }))).toEqual(['t_b']);
    const page1 = await s.listings.tasks({ limit: 2 });
    expect(ids(page1)).toEqual(['t_d', 't_c']);
    const last = page1[1]!;
    expect(ids(await s.listings.tasks({ limit: 2, before: { createdAt: last.createdAt, id: last.id } }))).toEqual(['t_b', 't_a']);
    expect(await s.listings.tasks({ limit: 2, before: { createdAt: 100, id: 't_a' } })).toEqual([]);
    expect((await s.listings.tasks({ limit: 1 }))[0]).toEqual(task('t_d', { createdAt: 300, status: 'stopped', statusReason: 'x' }));
  });

  it('listings: agents newest first, paged', async () => {
    const s = await make();
    const agent = (id: string, createdAt: number) => ({ id, name: id, owner: 'o', jwks: [], templates: [], status: 'active' as const, createdAt });
    for (const [id, at] of [['agt_a', 1], ['agt_b', 2], ['agt_c', 2]] as const) await s.agents.create(agent(id, at));
    const page1 = await s.listings.agents({ limit: 2 });
    expect(page1.map((a) => a.id)).toEqual(['agt_c', 'agt_b']);
    expect(page1[0]).toEqual(agent('agt_c', 2));
    expect((await s.listings.agents({ limit: 2, before: { createdAt: 2, id: 'agt_b' } })).map((a) => a.id)).toEqual(['agt_a']);
  });
});
}
