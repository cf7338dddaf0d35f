// A hard time limit on synchronous work. A timer cannot interrupt a running regular expression
// or a parser: V8 can, from its watchdog thread, and node:vm exposes it (`timeout`). The work
// runs in this thread (no worker to start: the hook is on every tool call's path) and is
// terminated where it stands when the time is up.
import { createContext, runInContext } from 'node:vm';

export class OutOfTime extends Error {
  constructor(readonly ms: number) {
    super(`analysis did not finish within ${ms} ms`);
  }
}

const box: { fn?: () => unknown } = {};
let context: ReturnType<typeof createContext> | undefined;

/** Runs `fn` synchronously, terminated after `ms` milliseconds (OutOfTime). Other errors pass through. */
export function within<T>(ms: number, fn: () => T): T {
  if (ms <= 0) throw new OutOfTime(0);
  context ??= createContext({ box });
  box.fn = fn;
  try {
    return runInContext('box.fn()', context, { timeout: Math.max(1, Math.floor(ms)), breakOnSigint: false }) as T;
  } catch (e) {
    if ((e as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new OutOfTime(Math.floor(ms));
    throw e;
  } finally {
    box.fn = undefined;
  }
}
