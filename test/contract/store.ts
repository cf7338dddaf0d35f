import { describe, expect, it } from 'vitest';
import type { Store, TaskRecord } from '../../src/core/ports.js';
import { agentScope, allScope, environmentScope as envScope } from '../../src/core/scope.js';

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

  it('tasks.recentEventsOfAgent: across all the agent\'s tasks, of up to three kinds, since a time, oldest first', async () => {
    const s = await make();
    await s.tasks.create(task('a1'));
    await s.tasks.create(task('a2', { jkt: 'k2' }));
    await s.tasks.create(task('b1', { agentId: 'agt_2', jkt: 'k3' }));
    await s.tasks.addEvent({ taskId: 'a1', at: 5, kind: 'denial', detail: { old: true } });
    await s.tasks.addEvent({ taskId: 'a1', at: 10, kind: 'denial', detail: { n: 1 } });
    await s.tasks.addEvent({ taskId: 'a2', at: 11, kind: 'grant', detail: {} });
    await s.tasks.addEvent({ taskId: 'b1', at: 12, kind: 'denial', detail: { other: true } });
    await s.tasks.addEvent({ taskId: 'a2', at: 13, kind: 'signal', detail: { n: 2 } });
    await s.tasks.addEvent({ taskId: 'a2', at: 14, kind: 'stop', detail: { n: 3 } });
    expect(await s.tasks.recentEventsOfAgent('agt_1', ['denial'], 10)).toEqual([{ taskId: 'a1', at: 10, kind: 'denial', detail: { n: 1 } }]);
    expect(await s.tasks.recentEventsOfAgent('agt_1', ['denial', 'stop', 'signal'], 10)).toEqual([
      { taskId: 'a1', at: 10, kind: 'denial', detail: { n: 1 } },
      { taskId: 'a2', at: 13, kind: 'signal', detail: { n: 2 } },
      { taskId: 'a2', at: 14, kind: 'stop', detail: { n: 3 } },
    ]);
    expect(await s.tasks.recentEventsOfAgent('agt_2', ['denial', 'signal'], 0)).toEqual([{ taskId: 'b1', at: 12, kind: 'denial', detail: { other: true } }]);
    expect(await s.tasks.recentEventsOfAgent('nobody', ['denial'], 0)).toEqual([]);
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
    expect(await s.revocations.epochOf([allScope, agentScope('a'), envScope('staging')])).toBe(0);
    await s.revocations.raiseEpoch(envScope('staging'), 500);
    await s.revocations.raiseEpoch(envScope('staging'), 300);
    await s.revocations.raiseEpoch(agentScope('a'), 400);
    expect(await s.revocations.epochOf([allScope, agentScope('a'), envScope('staging')])).toBe(500);
    expect(await s.revocations.epochOf([allScope, agentScope('a'), envScope('production')])).toBe(400);
  });

  it('tasks.state: the task, its scopes\' latest epoch and a token\'s revocation in one read', async () => {
    const s = await make();
    expect(await s.tasks.state('none', 'j')).toEqual({ epoch: 0, revoked: false });
    await s.tasks.create(task('t1'));
    expect(await s.tasks.state('t1')).toEqual({ task: task('t1'), epoch: 0, revoked: false });
    // Only the task's own scopes count: another agent's and another environment's do not.
    await s.revocations.raiseEpoch(agentScope('agt_2'), 900);
    await s.revocations.raiseEpoch(envScope('production'), 900);
    expect((await s.tasks.state('t1')).epoch).toBe(0);
    await s.revocations.raiseEpoch(envScope('staging'), 300);
    expect((await s.tasks.state('t1')).epoch).toBe(300);
    await s.revocations.raiseEpoch(agentScope('agt_1'), 400);
    expect((await s.tasks.state('t1')).epoch).toBe(400);
    await s.revocations.raiseEpoch(allScope, 500);
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

  it('audit.listPushed: only the pushed types, after a seq, in order, a page at a time', async () => {
    const s = await make();
    const types = ['capability.issued', 'task.revoked', 'capability.issued', 'scope.revoked', 'task.opened', 'agent.locked', 'task.stopped'];
    const r = (seq: number) => ({ seq, at: seq, type: types[seq - 1]!, actor: 'a', taskId: null, data: { n: seq }, prevHash: 'p', hash: `h${seq}` });
    for (let seq = 1; seq <= types.length; seq++) expect(await s.audit.append(r(seq))).toBe(true);
    expect((await s.audit.listPushed(0, 10)).map((x) => x.seq)).toEqual([2, 4, 6, 7]);
    expect((await s.audit.listPushed(2, 2)).map((x) => x.seq)).toEqual([4, 6]);
    expect(await s.audit.listPushed(6, 10)).toEqual([r(7)]);
    expect(await s.audit.listPushed(7, 10)).toEqual([]);
  });

  it('replay: many callers over many jtis, exactly one winner each', async () => {
    const s = await make();
    const jtis = Array.from({ length: 10 }, (_, i) => `j${i}`);
    const calls = jtis.flatMap((j) => Array.from({ length: 20 }, () => s.replay.consume('ns', j, 10).then((won) => ({ j, won }))));
    const results = await Promise.all(calls);
    for (const j of jtis) expect(results.filter((r) => r.j === j && r.won)).toHaveLength(1);
  });

  it('tasks.end: of many callers one wins, and the task shows the winner\'s status and reason', async () => {
    const s = await make();
    await s.tasks.create(task('t1'));
    const statuses = ['stopped', 'revoked', 'completed', 'expired'] as const;
    const calls = Array.from({ length: 100 }, (_, i) => s.tasks.end('t1', statuses[i % 4]!, `r${i}`).then((won) => ({ i, won })));
    const winners = (await Promise.all(calls)).filter((r) => r.won);
    expect(winners).toHaveLength(1);
    const i = winners[0]!.i;
    expect(await s.tasks.get('t1')).toEqual(task('t1', { status: statuses[i % 4], statusReason: `r${i}` }));
    expect(await s.tasks.end('t1', 'stopped', 'again')).toBe(false);
    expect(await s.tasks.end('missing', 'stopped', 'x')).toBe(false);
    expect((await s.tasks.state('t1')).task?.status).toBe(statuses[i % 4]);
  });

  it('agents.setStatus: of many callers setting one status, exactly one sees it change', async () => {
    const s = await make();
    await s.agents.create({ id: 'agt_1', name: 'a', owner: 'o', jwks: [], templates: [], status: 'active', createdAt: 1 });
    const wins = await Promise.all(Array.from({ length: 30 }, () => s.agents.setStatus('agt_1', 'locked')));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await s.agents.get('agt_1'))?.status).toBe('locked');
    expect(await s.agents.setStatus('missing', 'locked')).toBe(false);
  });

  it('audit.append: of many writers racing for one seq, exactly one lands and the log holds its record', async () => {
    const s = await make();
    const r = (seq: number, w: number) => ({ seq, at: seq, type: 't', actor: `w${w}`, taskId: null, data: { w }, prevHash: 'p', hash: `h${seq}-${w}` });
    const results = await Promise.all(Array.from({ length: 30 }, (_, w) => s.audit.append(r(1, w)).then((won) => ({ w, won }))));
    const winners = results.filter((x) => x.won);
    expect(winners).toHaveLength(1);
    expect(await s.audit.last()).toEqual(r(1, winners[0]!.w));
    expect(await s.audit.list(0, 10)).toEqual([r(1, winners[0]!.w)]);
  });

  it('audit.list pages by seq, after a seq and up to a limit', async () => {
    const s = await make();
    expect(await s.audit.last()).toBeUndefined();
    const r = (seq: number) => ({ seq, at: seq, type: 't', actor: 'a', taskId: seq % 2 ? 't1' : null, data: { n: seq }, prevHash: `h${seq - 1}`, hash: `h${seq}` });
    for (const seq of [1, 2, 3, 4, 5]) expect(await s.audit.append(r(seq))).toBe(true);
    expect(await s.audit.list(0, 2)).toEqual([r(1), r(2)]);
    expect(await s.audit.list(2, 2)).toEqual([r(3), r(4)]);
    expect(await s.audit.list(4, 10)).toEqual([r(5)]);
    expect(await s.audit.list(5, 10)).toEqual([]);
    expect(await s.audit.last()).toEqual(r(5));
  });

  it('tasks: create refuses a taken id; recentEvents with one kind; state of a missing task', async () => {
    const s = await make();
    await s.tasks.create(task('t1'));
    await expect(s.tasks.create(task('t1'))).rejects.toThrow();
    await s.tasks.addEvent({ taskId: 't1', at: 10, kind: 'denial', detail: {} });
    await s.tasks.addEvent({ taskId: 't1', at: 11, kind: 'grant', detail: {} });
    await s.tasks.addEvent({ taskId: 'other', at: 12, kind: 'denial', detail: {} });
    expect(await s.tasks.recentEvents('t1', ['denial'], 0)).toEqual([{ taskId: 't1', at: 10, kind: 'denial', detail: {} }]);
    expect(await s.tasks.events('missing')).toEqual([]);
    expect(await s.tasks.state('missing')).toEqual({ epoch: 0, revoked: false });
  });

  it('records read back are copies: changing one changes nothing stored', async () => {
    const s = await make();
    await s.tasks.create(task('t1'));
    const got = (await s.tasks.get('t1'))!;
    got.status = 'stopped';
    expect((await s.tasks.get('t1'))?.status).toBe('active');
    await s.tasks.addEvent({ taskId: 't1', at: 1, kind: 'grant', detail: { a: 1 } });
    const [e] = await s.tasks.events('t1');
    (e!.detail as { a: number }).a = 2;
    expect((await s.tasks.events('t1'))[0]?.detail).toEqual({ a: 1 });
  });

  it('resources and receivers: create, get, list oldest first', async () => {
    const s = await make();
    const res = { id: 'res_1', name: 'api', audience: 'https://api', secretHash: 'h', createdAt: 1 };
    await s.resources.create(res);
    expect(await s.resources.get('res_1')).toEqual(res);
    expect(await s.resources.get('nope')).toBeUndefined();
    await s.receivers.create({ id: 'rcv_b', endpoint: 'https://b', audience: 'b', createdAt: 20 });
    await s.receivers.create({ id: 'rcv_a', endpoint: 'https://a', audience: 'a', createdAt: 10 });
    expect((await s.receivers.list()).map((r) => r.id)).toEqual(['rcv_a', 'rcv_b']);
  });

  it('keys: listed by use, newest first; reseal replaces the sealed form', async () => {
    const s = await make();
    const k = (kid: string, use: string, createdAt: number) => ({ kid, alg: 'EdDSA', use, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: kid }, sealedPrivate: `sealed-${kid}`, createdAt });
    await s.keys.add(k('k1', 'task', 1));
    await s.keys.add(k('k2', 'task', 2));
    await s.keys.add(k('k3', 'approval', 3));
    expect(await s.keys.list('task')).toEqual([k('k2', 'task', 2), k('k1', 'task', 1)]);
    await s.keys.reseal('k1', 'resealed');
    expect((await s.keys.list('task'))[1]).toEqual({ ...k('k1', 'task', 1), sealedPrivate: 'resealed' });
    expect((await s.keys.list('approval')).map((x) => x.kid)).toEqual(['k3']);
  });

  it('secrets: put creates or replaces (keeping createdAt), list by name, reseal', async () => {
    const s = await make();
    await s.secrets.put('b', 'v1', 10);
    await s.secrets.put('a', 'x', 11);
    await s.secrets.put('b', 'v2', 20);
    expect(await s.secrets.get('b')).toEqual({ name: 'b', sealedValue: 'v2', createdAt: 10, updatedAt: 20 });
    expect(await s.secrets.get('nope')).toBeUndefined();
    expect((await s.secrets.list()).map((x) => x.name)).toEqual(['a', 'b']);
    await s.secrets.reseal('a', 'y');
    expect(await s.secrets.get('a')).toEqual({ name: 'a', sealedValue: 'y', createdAt: 11, updatedAt: 11 });
  });

  it('provider sessions: live means expiring after now', async () => {
    const s = await make();
    const x = (taskId: string, expiresAt: number) => ({ taskId, provider: 'aws', target: `arn:${taskId}`, expiresAt });
    await s.providerSessions.add(x('t1', 100));
    await s.providerSessions.add(x('t1', 200));
    await s.providerSessions.add(x('t2', 300));
    expect(await s.providerSessions.liveFor('t1', 100)).toEqual([x('t1', 200)]);
    expect(await s.providerSessions.liveFor('t1', 99)).toEqual([x('t1', 100), x('t1', 200)]);
    expect(await s.providerSessions.live(200)).toEqual([x('t2', 300)]);
    expect(await s.providerSessions.liveFor('t3', 0)).toEqual([]);
  });

  it('flush resolves once writes are made', async () => {
    const s = await make();
    expect(await s.replay.consume('n', 'f', 10)).toBe(true);
    await expect(s.flush()).resolves.toBeUndefined();
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

  it('purge: revoked tokens go in bounded batches too; scope epochs stay', async () => {
    const s = await make();
    for (let i = 0; i < 3; i++) await s.revocations.revokeToken(`old${i}`, 5);
    await s.revocations.revokeToken('live', 50);
    await s.revocations.raiseEpoch(allScope, 1);
    expect(await s.purge(10, 2)).toBe(2);
    expect(await s.purge(10, 2)).toBe(1);
    expect(await s.purge(10, 2)).toBe(0);
    expect(await s.revocations.isTokenRevoked('old2')).toBe(false);
    expect(await s.revocations.isTokenRevoked('live')).toBe(true);
    expect(await s.revocations.epochOf([allScope])).toBe(1);
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

  it('audit checkpoints: the newest by seq, one per seq, only the newest `keep` kept; prune drops the lowest records up to a limit', async () => {
    const s = await make();
    expect(await s.audit.checkpoint()).toBeUndefined();
    const cp = (seq: number) => ({ seq, hash: `h${seq}`, at: seq * 10, jws: `jws${seq}` });
    await s.audit.addCheckpoint(cp(5), 2);
    await s.audit.addCheckpoint({ ...cp(5), jws: 'other' }, 2); // the same seq again changes nothing
    expect(await s.audit.checkpoint()).toEqual(cp(5));
    await s.audit.addCheckpoint(cp(9), 2);
    await s.audit.addCheckpoint(cp(7), 2);
    expect(await s.audit.checkpoint()).toEqual(cp(9));
    await s.audit.addCheckpoint(cp(12), 2); // keeps 12 and 9
    expect(await s.audit.checkpoint()).toEqual(cp(12));

    const r = (seq: number) => ({ seq, at: seq, type: 't', actor: 'a', taskId: null, data: {}, prevHash: 'p', hash: `h${seq}` });
    for (let q = 1; q <= 10; q++) expect(await s.audit.append(r(q))).toBe(true);
    expect(await s.audit.prune(6, 4)).toBe(4);
    expect((await s.audit.list(0, 100)).map((x) => x.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(await s.audit.prune(6, 4)).toBe(2);
    expect(await s.audit.prune(6, 4)).toBe(0);
    expect((await s.audit.list(0, 100)).map((x) => x.seq)).toEqual([7, 8, 9, 10]);
    expect((await s.audit.last())?.seq).toBe(10);
  });

  it('tasks.pruneExpired: events of tasks expired before the cut go first, then the tasks; live tasks stay; bounded', async () => {
    const s = await make();
    await s.tasks.create(task('old1', { expiresAt: 100 }));
    await s.tasks.create(task('old2', { expiresAt: 200, status: 'stopped', statusReason: 'x', jkt: 'k2' }));
    await s.tasks.create(task('live', { expiresAt: 5000, jkt: 'k3' }));
    for (let i = 0; i < 3; i++) {
      await s.tasks.addEvent({ taskId: 'old1', at: 50 + i, kind: 'grant', detail: { i } });
      await s.tasks.addEvent({ taskId: 'old2', at: 60 + i, kind: 'tool', detail: { i } });
      await s.tasks.addEvent({ taskId: 'live', at: 70 + i, kind: 'grant', detail: { i } });
    }
    await s.providerSessions.add({ taskId: 'old1', provider: 'aws', target: 'arn:a', expiresAt: 90 });
    await s.providerSessions.add({ taskId: 'live', provider: 'aws', target: 'arn:b', expiresAt: 4000 });
    // Each statement takes at most `limit` rows: 2 events and old1's session, then no task (both still have events).
    expect(await s.tasks.pruneExpired(1000, 2)).toBe(3);
    let total = 0;
    for (let round = 0; round < 10; round++) total += await s.tasks.pruneExpired(1000, 2);
    expect(total).toBe(4 + 2); // the other four events, then both tasks
    expect(await s.providerSessions.live(0)).toEqual([{ taskId: 'live', provider: 'aws', target: 'arn:b', expiresAt: 4000 }]);
    expect(await s.tasks.get('old1')).toBeUndefined();
    expect(await s.tasks.get('old2')).toBeUndefined();
    expect(await s.tasks.events('old1')).toEqual([]);
    expect(await s.tasks.get('live')).toBeDefined();
    expect(await s.tasks.events('live')).toHaveLength(3);
    expect(await s.tasks.pruneExpired(1000, 2)).toBe(0);
  });
});
}
