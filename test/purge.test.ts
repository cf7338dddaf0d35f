import { describe, expect, it } from 'vitest';
import type { Store } from '../src/core/ports.js';
import { startPurge } from '../src/core/purge.js';
import { FrozenClock } from './helpers/clock.js';

describe('background purge', () => {
  it('deletes in bounded batches, stops a round at a short batch, and stops when told', async () => {
    const answers = [64, 64, 10, 0, 0, 0, 0, 0, 0, 0];
    const calls: [number, number][] = [];
    const store = { purge: async (now: number, limit: number) => (calls.push([now, limit]), answers.shift() ?? 0) } as unknown as Store;
    const stop = startPurge(store, new FrozenClock(1_000), { everyMs: 5, batch: 64, batchesPerRound: 8 });
    await new Promise((r) => setTimeout(r, 60));
    stop();
    const seen = calls.length;
    // The first round: two full batches, then a short one ends it; later rounds, one call each.
    expect(calls.slice(0, 3)).toEqual([[1_000, 64], [1_000, 64], [1_000, 64]]);
    expect(seen).toBeGreaterThan(3);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.length).toBe(seen);
  });

  it('caps a round at batchesPerRound deletes', async () => {
    let calls = 0;
    const store = { purge: async () => (calls++, 64) } as unknown as Store;
    const stop = startPurge(store, new FrozenClock(0), { everyMs: 40, batch: 64, batchesPerRound: 3 });
    // One round starts at 40 ms; the next not before 80 ms.
    await new Promise((r) => setTimeout(r, 65));
    stop();
    expect(calls).toBe(3);
  });
});
