import { describe, expect, it } from 'vitest';
import { testBroker } from './helpers/broker.js';

// GET /v1/tasks and GET /v1/agents: the operator's listings.
describe('operator listings', () => {
  it('lists tasks newest first with filters; settles expired and scope-revoked tasks; pages by cursor', async () => {
    const b = await testBroker();
    const a1 = await b.registerAgent({ name: 'one' });
    const a2 = await b.registerAgent({ name: 'two', templates: ['fix-credentials'] });
    const open = async (a: typeof a1, env: string) => {
      const r = await a.openTask('fix-credentials', env);
      expect(r.status).toBe(200);
      b.clock.advance(1);
    };
    await open(a1, 'staging'); // will expire
    b.clock.advance(3600);
    await open(a2, 'staging'); // revoked with its agent
    expect((await b.admin('/v1/revocations', { agent: a2.clientId })).status).toBe(200);
    b.clock.advance(1);
    await open(a2, 'staging');
    await open(a1, 'staging');

    const list = async (q = '') => {
      const res = await b.admin(`/v1/tasks${q}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { tasks: { id: string; agent: string; status: string; environment: string }[]; next_cursor?: string };
    };
    const all = await list();
    expect(all.tasks.map((t) => [t.agent, t.environment, t.status])).toEqual([
      [a1.clientId, 'staging', 'active'],
      [a2.clientId, 'staging', 'active'],
      [a2.clientId, 'staging', 'revoked'],
      [a1.clientId, 'staging', 'expired'],
    ]);
    expect(all.next_cursor).toBeUndefined();
    expect((await list('?status=active')).tasks).toHaveLength(2);
    expect((await list('?status=expired')).tasks.map((t) => t.id)).toEqual([all.tasks[3]!.id]);
    expect((await list('?status=revoked')).tasks.map((t) => t.id)).toEqual([all.tasks[2]!.id]);
    expect((await list(`?agent=${a2.clientId}`)).tasks.map((t) => t.id)).toEqual([all.tasks[1]!.id, all.tasks[2]!.id]);
    expect((await list(`?agent=${a2.clientId}&status=active&environment=staging`)).tasks.map((t) => t.id)).toEqual([all.tasks[1]!.id]);
    expect((await list('?environment=production')).tasks).toEqual([]);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.tasks.map((t) => t.id));
  });

  it('lists agents, pages them, and refuses non-operators and bad queries with codes', async () => {
    const b = await testBroker();
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push((await b.registerAgent({ name })).clientId);
      b.clock.advance(1);
    }
    const page1 = (await (await b.admin('/v1/agents?limit=2')).json()) as { agents: { client_id: string; name: string; status: string }[]; next_cursor: string };
    expect(page1.agents.map((a) => a.name)).toEqual(['c', 'b']);
    expect(page1.agents[0]!.status).toBe('active');
    const page2 = (await (await b.admin(`/v1/agents?limit=2&cursor=${page1.next_cursor}`)).json()) as { agents: { client_id: string }[]; next_cursor?: string };
    expect(page2.agents.map((a) => a.client_id)).toEqual([ids[0]]);
    expect(page2.next_cursor).toBeUndefined();

    const anon = await b.request('/v1/tasks');
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { code?: string; error?: string }).error ?? '').toMatch(/unauthorized/);
    for (const q of ['?status=nope', '?limit=0', '?limit=501', '?cursor=AAAA', '?extra=1']) {
      const res = await b.admin(`/v1/tasks${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: string }).error, q).toBe('invalid_request');
    }
  });
});
