import { describe, expect, it } from 'vitest';
import { flushResightings } from '../src/core/resightings.js';
import { APPROVALS, testStack } from './helpers/stack.js';

// A leaked token is revoked and recorded once; whoever holds a copy can show it again and
// again, and each later sighting is only counted — in an aggregate, off the owner's trajectory.
describe('re-sighting a leaked token', () => {
  it('an expired capability token sent 150 times to the approval service: one token.revoked, one red line, then one aggregate of 149', async () => {
    const s = await testStack();
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const task = await agent.openTask('ops-maintenance', 'production');
    const cap = await agent.exchange(task.body.access_token, { scope: 'db.read' });
    expect(cap.status).toBe(200);
    s.clock.advance(3600); // expired: ownership before expiry, still a sighting of a leak
    for (let i = 0; i < 150; i++) {
      const res = await s.approvals.app.request(`${APPROVALS}/v1/approvals`, { headers: { Authorization: `Bearer ${cap.body.access_token}` } });
      expect(res.status).toBe(403);
    }
    const audit = async () => (await (await s.broker.admin('/v1/audit')).text()).trim().split('\n').map((l) => JSON.parse(l));
    const revoked = (await audit()).filter((r) => r.type === 'token.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0].data).toMatchObject({ token_use: 'capability', reason: expect.stringMatching(/^leaked/) });

    const view = (await (await s.broker.admin(`/v1/tasks/${task.body.task_id}`)).json()) as any;
    expect(view.events.filter((e: any) => e.kind === 'revoke')).toHaveLength(1);

    expect(await flushResightings(s.broker.core, { force: true })).toBe(1);
    const aggregates = (await audit()).filter((r) => r.type === 'token.resighted.aggregate');
    expect(aggregates).toHaveLength(1);
    expect(aggregates[0]).toMatchObject({ task_id: null, data: { count: 149, leaked_task: task.body.task_id, leaked_agent: agent.clientId } });
    const after = (await (await s.broker.admin(`/v1/tasks/${task.body.task_id}`)).json()) as any;
    expect(after.events).toEqual(view.events);
  });

  it('the counts of an interval are written by maintenance once it has ended', async () => {
    const s = await testStack();
    const victim = await s.broker.registerAgent({ name: 'victim', owner: 'alice' });
    const found = await victim.openTask();
    const bearer = () => s.broker.request(`/v1/tasks/${found.body.task_id}`, { headers: { Authorization: `Bearer ${found.body.access_token}` } });
    for (let i = 0; i < 3; i++) expect((await bearer()).status).toBe(401);
    const audit = async () => (await (await s.broker.admin('/v1/audit')).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect((await audit()).filter((r) => r.type === 'token.revoked')).toHaveLength(1);
    s.clock.advance(61);
    await expect.poll(async () => (await audit()).find((r) => r.type === 'token.resighted.aggregate')?.data.count).toBe(2);
  });
});
