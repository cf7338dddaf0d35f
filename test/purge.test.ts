import { describe, expect, it } from 'vitest';
import type { Store } from '../src/core/ports.js';
import { purgeRound, repeat } from '../src/core/purge.js';
import { FrozenClock } from './helpers/clock.js';

// A service's maintenance() is one purge round; Node repeats it on a timer, Workers on a Cron
// Trigger. The round is tested directly, without timing.
describe('housekeeping: one purge round', () => {
  it('deletes in bounded batches and ends the round at a short batch', async () => {
    const answers = [64, 64, 10, 0];
    const calls: [number, number][] = [];
    const store = { purge: async (now: number, limit: number) => (calls.push([now, limit]), answers.shift() ?? 0) } as unknown as Store;
    expect(await purgeRound(store, new FrozenClock(1_000), { batch: 64, batchesPerRound: 8 })).toBe(138);
    expect(calls).toEqual([[1_000, 64], [1_000, 64], [1_000, 64]]);
  });

  it('caps a round at batchesPerRound deletes', async () => {
    let calls = 0;
    const store = { purge: async () => (calls++, 64) } as unknown as Store;
    expect(await purgeRound(store, new FrozenClock(0), { batch: 64, batchesPerRound: 3 })).toBe(192);
    expect(calls).toBe(3);
  });

  it('stops between batches when told', async () => {
    let calls = 0;
    let stopped = false;
    const store = { purge: async () => (calls++, (stopped = true), 64) } as unknown as Store;
    await purgeRound(store, new FrozenClock(0), { batch: 64, batchesPerRound: 8 }, () => stopped);
    expect(calls).toBe(1);
  });

  it('repeat runs nothing once stopped', async () => {
    let rounds = 0;
    const stop = repeat(async () => void rounds++, 1);
    stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(rounds).toBe(0);
  });
});
