import type { Clock, Store } from './ports.js';

/**
 * Housekeeping: expired replay and revocation rows are inert, and dropped only to bound the
 * tables. Each delete is small so that none stalls the requests around it (one DELETE of a
 * minute's rows at load took 147 ms); Node repeats rounds every 100 ms, Workers on a Cron
 * Trigger until a round comes back empty.
 */
export interface PurgeOptions {
  /** Rows per delete: each costs ≈20 µs a row here, so 64 holds the writer for ≈1.5 ms. */
  batch: number;
  /** Deletes per round at most (with a turn of the event loop between them). */
  batchesPerRound: number;
}

const DEFAULTS: PurgeOptions = { batch: 64, batchesPerRound: 8 };

/** Runs `round` every `ms` after the previous one ended, until the returned function is called. */
export function repeat(round: () => Promise<unknown>, ms: number): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void round().catch(() => undefined).finally(schedule), ms);
    (timer as { unref?: () => void }).unref?.();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/**
 * One round of housekeeping: up to `batchesPerRound` small deletes of expired rows, a turn of
 * the event loop between them. Returns how many rows went. A service's `maintenance()` is
 * this; Node runs it on a timer, Workers on a Cron Trigger.
 */
export async function purgeRound(store: Pick<Store, 'purge'>, clock: Clock, options: Partial<PurgeOptions> = {}, stopped: () => boolean = () => false): Promise<number> {
  const o = { ...DEFAULTS, ...options };
  let total = 0;
  for (let i = 0; i < o.batchesPerRound && !stopped(); i++) {
    const n = await store.purge(clock.now(), o.batch);
    total += n;
    if (n < o.batch) break;
    await new Promise((r) => setTimeout(r, 0));
  }
  return total;
}
