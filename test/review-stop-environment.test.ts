import { describe, expect, it } from 'vitest';
import { eventsForCheck } from './review-helpers/events-for.js';
import { testBroker } from './helpers/broker.js';

/**
 * Review (second pass), area 3 (per-subscriber filtering, branch guard): a task.stopped record
 * says `environment: task.environment`, then spreads the caller's detail over it. The token
 * endpoint's detail names the environment the agent *asked for* (`resource=` in another
 * environment), so an agent refused once and then asking for a production resource from its
 * staging task (escalation_after_denial) gets a stop whose pushed event says `production`. With
 * per-subscriber filtering (guard's eventsFor), a staging resource service — the one holding this
 * task's live capability tokens — never hears the stop; with `lock_agent: false` for that rule
 * nothing else ends those tokens at the verifier before they expire.
 */
describe('review: a stop names the task’s own environment', () => {
  it('whatever environment the refused request asked for', async () => {
    const b = await testBroker();
    const a = await b.registerAgent();
    const t = await a.openTask(); // staging
    expect((await a.exchange(t.body.access_token, { scope: 'config.read' })).status).toBe(200); // a live staging token
    await a.exchange(t.body.access_token, { scope: 'db.read' }); // refused
    const res = await a.exchange(t.body.access_token, { scope: 'config.read', resource: 'https://api.production.example/config' });
    expect(res.body.error).toBe('task_stopped');
    const lines = (await (await b.admin('/v1/audit')).text()).trim().split('\n').map((l) => JSON.parse(l));
    const stopped = lines.find((l) => l.type === 'task.stopped');
    expect(stopped.task_id).toBe(t.body.task_id);
    expect(stopped.data.environment).toBe('staging');
    // What a staging-only subscriber would be shown under guard's filter.
    expect(eventsForCheck('staging', { environment: stopped.data.environment })).toBe(true);
  });
});
