import type pg from 'pg';

/**
 * Group commit on PostgreSQL, as the SQLite adapter does it in-process. Statements commit with
 * `synchronous_commit = off`: visible to every node at once, their WAL not yet on disk. No answer
 * leaves before `flush()` (http/durable.ts) has committed one marker transaction synchronously,
 * which flushes the WAL of every earlier commit, so what a caller was told is durable, and a
 * crash before the flush turns the answer into a 503. Concurrent requests share one flush, and a
 * request that wrote nothing since the last flush waits for none. Measured: one fsync per answer
 * instead of one per statement (four to six per token).
 */
export function groupFlush(pool: pg.Pool) {
  let written = 0; // statements that may have written, counted once they completed
  let durable = 0; // of those, how many a finished flush covers
  let inflight: Promise<void> | undefined;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  // Anything but a plain SELECT may have written (INSERT, UPDATE, DELETE, WITH …, DDL).
  const mayWrite = (q: unknown) => !/^\s*select\b/i.test(typeof q === 'string' ? q : String((q as { text?: string })?.text ?? ''));
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    const p = query(...args);
    if (mayWrite(args[0]) && p && typeof (p as Promise<unknown>).then === 'function')
      (p as Promise<unknown>).then(() => void written++, () => undefined);
    return p;
  };
  const marker = async () => {
    const upTo = written;
    await query('BEGIN; SET LOCAL synchronous_commit = on; SELECT txid_current(); COMMIT');
    durable = Math.max(durable, upTo);
  };
  let asked = 0; // barrier calls so far
  let covered = 0; // of those, how many a finished barrier marker started after
  let barrierRun: Promise<void> | undefined;
  return {
    /**
     * One marker whatever this process wrote: it flushes the WAL up to its own commit, and so
     * every commit any session made before it (other nodes' records this node is about to pass
     * on). A marker already running may have begun before what the caller saw was committed, so
     * a call shares only a marker begun after it.
     */
    async barrier(): Promise<void> {
      const mine = ++asked;
      while (covered < mine) {
        if (!barrierRun) {
          const upTo = asked;
          barrierRun = marker()
            .then(() => void (covered = Math.max(covered, upTo)))
            .finally(() => (barrierRun = undefined));
        }
        await barrierRun;
      }
    },
    /** Resolves once every statement completed before the call is durable; rejects if it cannot be made so. */
    async flush(): Promise<void> {
      const need = written;
      while (durable < need) {
        // A flush already running may have started before our last write: wait, then look again.
        inflight ??= marker().finally(() => (inflight = undefined));
        await inflight;
      }
    },
  };
}
