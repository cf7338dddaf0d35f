// The hook's limits, shared by its process (main.ts), the warm guard (warm.ts, serve.ts) and the
// decision itself (run.ts); a module of its own so that the hook's fast path loads nothing else.

/** The hook answers within this (STINT_GUARD_DEADLINE_MS), below every harness's own time-out. */
export const DEADLINE_MS = 2000;

/** The largest hook event read, bytes; a larger one is blocked. */
export const MAX_INPUT = 1024 * 1024;
