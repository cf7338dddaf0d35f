// What the hook's process does around a decision, shared by the bundled hook (hook.ts) and the
// in-process path (main.ts): its deadline, its input, its watchdog and its last words.
import { writeSync } from 'node:fs';
import { ADAPTERS } from './adapters/index.js';
import type { Harness } from './event.js';
import { DEADLINE_MS, MAX_INPUT } from './limits.js';

const configured = Number(process.env.STINT_GUARD_DEADLINE_MS ?? process.env.STINT_GUARD_TIMEOUT_MS ?? DEADLINE_MS);
/** STINT_GUARD_DEADLINE_MS: at least 200 ms, at most a minute. */
export const TOTAL_MS = Number.isFinite(configured) && configured >= 200 ? Math.min(configured, 60_000) : DEADLINE_MS;

/** Writes the answer and exits. */
export function out(stdout: string, stderr: string, code: number): never {
  try {
    if (stdout) writeSync(1, stdout);
    if (stderr) writeSync(2, stderr);
  } finally {
    process.exit(code);
  }
}

/** The harness named by `--harness X` (or `--harness=X`); a missing or unknown one is a block. */
export function harnessOf(argv: string[]): Harness {
  const i = argv.indexOf('--harness');
  const harness = (i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--harness='))?.slice(10)) as Harness | undefined;
  if (!harness || !(harness in ADAPTERS)) out('', `stint guard: --harness ${Object.keys(ADAPTERS).join('|')} is required; blocked\n`, 2);
  return harness!;
}

/** Blocks the call as `uncertain`, in the harness's format, and exits. */
export function block(harness: Harness, why: string): never {
  const r = ADAPTERS[harness].render({ kind: 'block', reason: `stint guard [uncertain]: ${why}; blocked (fail closed)` }, undefined);
  out(r.stdout, r.stderr, r.exitCode);
}

/**
 * When the answer is due (performance.now() ms), with a watchdog that blocks then. The clock
 * counts from the process's start, so the bundled hook's deadline includes Node's own start-up;
 * through the CLI (`npx stint guard`, slow to load) it starts when this is called.
 */
export function deadlineWithWatchdog(harness: Harness): number {
  const deadline = performance.now() < TOTAL_MS / 2 ? TOTAL_MS : performance.now() + TOTAL_MS;
  const watchdog = setTimeout(() => block(harness, `no decision within ${TOTAL_MS} ms`), Math.max(1, deadline - 30 - performance.now()));
  watchdog.unref?.();
  return deadline;
}

/** stdin, at most MAX_INPUT bytes (a larger event reads as one byte too many, which is blocked). */
export function readInput(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_INPUT) {
        process.stdin.destroy();
        resolve('x'.repeat(MAX_INPUT + 1));
      } else chunks.push(c);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}
