/**
 * A service assembled from its ports, the same on every runtime. The core is built once and
 * read-only from then on; `start()` begins the reactions to its events (SET push, approval
 * voiding, provider revocation), `stop()` ends them, and `maintenance()` is one round of
 * housekeeping (expired replay and revocation rows) that a runtime calls on its own schedule:
 * a timer on Node, a Cron Trigger on Workers.
 */
export interface Service<C, A> {
  core: C;
  app: A;
  start(): void;
  stop(): void;
  maintenance(): Promise<number>;
  /**
   * Writes the aggregates whose counting interval has ended (refusals, re-sightings, routine
   * observations). Node leaves this to `maintenance()`'s timer; Workers call it after each answer
   * and keep it alive with `waitUntil`, since an isolate may be evicted before any timer fires.
   */
  flushDue?(): Promise<unknown>;
  /** Writes every aggregate still counting, whatever its interval: a graceful stop loses none. */
  drain?(): Promise<unknown>;
}

/** How a runtime keeps background work alive and reports what failed in it. */
export interface Background {
  /** Called with each piece of work started outside a request's answer (Workers: waitUntil). */
  track?: (p: Promise<unknown>) => void;
  log?: (message: string) => void;
}
