// The hook deciding in its own process: `npx stint guard` always, the bundled hook (hook.ts)
// when no warm guard answers. Synchronous analysis runs under a hard limit (bounded.ts) and
// everything else is asynchronous, so the watchdog (process.ts) always gets to answer in time.
import type { Harness } from './event.js';
import { deadlineWithWatchdog, harnessOf, out, readInput } from './process.js';
import { runGuard } from './run.js';
import { shortLived } from './shell.js';

/** Decides `input` here and exits with the answer. */
export async function decideHere(harness: Harness, input: string, deadline: number): Promise<never> {
  // this process lives for one tool call: the shell grammar is compiled with the baseline compiler only
  shortLived.process = true;
  const { rendered } = await runGuard({ harness, input, deadline: deadline - 60, brokerTimeoutMs: 5000 });
  out(rendered.stdout, rendered.stderr, rendered.exitCode);
}

/** `stint guard --harness X`: one hook event on stdin, one answer. */
export async function guardMain(argv: string[]) {
  const harness = harnessOf(argv);
  const deadline = deadlineWithWatchdog(harness);
  await decideHere(harness, await readInput(), deadline);
}
