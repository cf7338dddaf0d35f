// The hook's process entry (bundled to dist/hook/stint-guard.mjs by `npm run build:guard`):
// reads stdin (bounded in size and time), answers, exits, always within its deadline (default
// 2 s from the process's start, STINT_GUARD_DEADLINE_MS): synchronous analysis runs under a
// hard limit (bounded.ts), everything else is asynchronous, so the watchdog below always gets
// to answer "block" in time.
import { writeSync } from 'node:fs';
import { ADAPTERS } from './adapters/index.js';
import type { Harness } from './event.js';
import { DEADLINE_MS, MAX_INPUT, runGuard } from './run.js';
import { shortLived } from './shell.js';

const configured = Number(process.env.STINT_GUARD_DEADLINE_MS ?? process.env.STINT_GUARD_TIMEOUT_MS ?? DEADLINE_MS);
const TOTAL_MS = Number.isFinite(configured) && configured >= 200 ? Math.min(configured, 60_000) : DEADLINE_MS;

// A process that lives for one tool call compiles the shell grammar's WebAssembly with the
// baseline compiler only (shell.ts, when a call needs the grammar at all).
shortLived.process = true;

function out(stdout: string, stderr: string, code: number): never {
  try {
    if (stdout) writeSync(1, stdout);
    if (stderr) writeSync(2, stderr);
  } finally {
    process.exit(code);
  }
}

export async function guardMain(argv: string[]) {
  const i = argv.indexOf('--harness');
  const harness = (i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--harness='))?.slice(10)) as Harness | undefined;
  if (!harness || !(harness in ADAPTERS)) out('', `stint guard: --harness ${Object.keys(ADAPTERS).join('|')} is required; blocked\n`, 2);
  const adapter = ADAPTERS[harness!];
  // performance.now() counts from the process's start: the bundled hook's deadline includes
  // Node's own start-up; through the CLI (`npx stint guard`, slow to load) it starts here
  const deadline = performance.now() < TOTAL_MS / 2 ? TOTAL_MS : performance.now() + TOTAL_MS;
  const watchdog = setTimeout(() => {
    const r = adapter.render({ kind: 'block', reason: `stint guard [uncertain]: no decision within ${TOTAL_MS} ms; blocked (fail closed)` }, undefined);
    out(r.stdout, r.stderr, r.exitCode);
  }, Math.max(1, deadline - 30 - performance.now()));
  watchdog.unref?.();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_INPUT) break;
    chunks.push(c as Buffer);
  }
  const input = size > MAX_INPUT ? 'x'.repeat(MAX_INPUT + 1) : Buffer.concat(chunks).toString('utf8');
  const { rendered } = await runGuard({ harness: harness!, input, deadline: deadline - 60, brokerTimeoutMs: 5000 });
  out(rendered.stdout, rendered.stderr, rendered.exitCode);
}

const self = process.argv[1] ?? '';
if (/stint-guard\.(m?js|ts)$/.test(self) || process.env.STINT_GUARD_MAIN === '1') {
  guardMain(process.argv.slice(2)).catch((e) => out('', `stint guard failed: ${(e as Error).message}; blocked\n`, 2));
}
