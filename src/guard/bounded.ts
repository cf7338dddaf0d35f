// A hard time limit on synchronous work. A timer cannot interrupt a running regular expression
// or a parser: V8 can, from its watchdog thread, and node:vm exposes it (`timeout`). The work
// runs in this thread and in this context (no worker to start, no new V8 context to build: the
// hook is on every tool call's path) and is terminated where it stands when the time is up.
import { Script } from 'node:vm';

export class OutOfTime extends Error {
  constructor(readonly ms: number) {
    super(`analysis did not finish within ${ms} ms`);
  }
}

const SLOT = '__stintBoundedFn';
let script: Script | undefined;

/** How many bounded steps were cut off in this process: work stopped mid-way may leave state behind (serve.ts). */
export const cutOff = { count: 0 };

/** Runs `fn` synchronously, terminated after `ms` milliseconds (OutOfTime). Other errors pass through. */
export function within<T>(ms: number, fn: () => T): T {
  if (ms <= 0) throw new OutOfTime(0);
  script ??= new Script(`globalThis.${SLOT}()`);
  const g = globalThis as unknown as Record<string, unknown>;
  const previous = g[SLOT];
  g[SLOT] = fn;
  try {
    return script.runInThisContext({ timeout: Math.max(1, Math.floor(ms)), breakOnSigint: false }) as T;
  } catch (e) {
    if ((e as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      cutOff.count++;
      throw new OutOfTime(Math.floor(ms));
    }
    throw e;
  } finally {
    // nested calls (a bounded step inside another) restore the outer one
    g[SLOT] = previous;
  }
}
