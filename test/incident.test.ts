import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benignTask, replayIncident } from '../src/demo/incident.js';
import { LIVE_ADMIN, liveBroker } from './helpers/live.js';

let live: Awaited<ReturnType<typeof liveBroker>>;
beforeAll(async () => {
  live = await liveBroker();
});
afterAll(() => live.close());

describe('the incident, replayed', () => {
  it('is stopped at the substitution, before any destructive call succeeds', async () => {
    const r = await replayIncident({ issuer: live.issuer, adminToken: LIVE_ADMIN });
    const stop = r.steps.findIndex((s) => s.stop);
    expect(r.steps[stop]!.title).toMatch(/DELETE \/volumes\/prod-db with it/);
    expect(r.deleted).toEqual([]);
    expect(r.steps[2]!.outcome).toMatch(/^400 invalid_authorization_details/);
    expect(r.steps.slice(stop + 1).map((s) => s.outcome.slice(0, 3))).toEqual(['400', '401', '400', 'act']);
    expect(r.steps.at(-1)!.outcome).toBe('active: false');
    const task = await live.operator.task(r.stagingTask);
    expect(task.body).toMatchObject({ status: 'stopped', status_reason: expect.stringMatching(/^substitution/) });
    expect(task.body.events.map((e: any) => e.kind)).toEqual(['opened', 'grant', 'denial', 'stop']);
  });
});

describe('benign tasks', () => {
  it('are never refused or stopped, one after another or side by side', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => benignTask({ issuer: live.issuer, adminToken: LIVE_ADMIN }, `worker-${i}`)));
    for (const r of runs) {
      expect(r.statuses).toEqual([200, 200, 200, 200, 200]);
      expect(r.task.status).toBe('completed');
      expect(r.task.events.map((e: any) => e.kind)).toEqual(['opened', 'grant', 'grant', 'grant', 'complete']);
    }
  });
});
