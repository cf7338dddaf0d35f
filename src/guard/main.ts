// The hook's process (bundled to dist/hook/stint-guard.mjs by `npm run build:guard`, and behind
// `npx stint guard`): reads stdin (bounded in size and time), answers, exits, always within its
// deadline (default 2 s from the process's start, STINT_GUARD_DEADLINE_MS). The bundled hook
// first asks the warm guard (warm.ts), which answers in a few milliseconds; when none answers it
// decides here, with synchronous analysis under a hard limit (bounded.ts) and everything else
// asynchronous, so the watchdog below always gets to answer "block" in time.
//
// This module loads only what the warm path needs; the decision itself (run.ts and the
// analysis) is imported when this process has to decide.
import { existsSync, writeSync } from 'node:fs';
import { ADAPTERS } from './adapters/index.js';
import type { Harness } from './event.js';
import { DEADLINE_MS, MAX_INPUT } from './limits.js';
import { askWarm, privateDir, requestEnv, socketPath, warmDir, warmEnabled } from './warm.js';

const configured = Number(process.env.STINT_GUARD_DEADLINE_MS ?? process.env.STINT_GUARD_TIMEOUT_MS ?? DEADLINE_MS);
const TOTAL_MS = Number.isFinite(configured) && configured >= 200 ? Math.min(configured, 60_000) : DEADLINE_MS;

function out(stdout: string, stderr: string, code: number): never {
  try {
    if (stdout) writeSync(1, stdout);
    if (stderr) writeSync(2, stderr);
  } finally {
    process.exit(code);
  }
}

async function readInput(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_INPUT) break;
    chunks.push(c as Buffer);
  }
  return size > MAX_INPUT ? 'x'.repeat(MAX_INPUT + 1) : Buffer.concat(chunks).toString('utf8');
}

/** Starts a warm guard for the next call (detached: it outlives this hook, and holds none of its pipes). */
async function startWarm(entry: string) {
  try {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [entry, '--serve'], { detached: true, stdio: 'ignore', cwd: '/', env: process.env });
    child.on('error', () => {});
    child.unref();
  } catch {
    // no warm guard then: this process decides, as it would anyway
  }
}

/** `warm`: the bundle's own path, to ask (and start) a warm guard built from the same files. */
export async function guardMain(argv: string[], o: { warm?: string } = {}) {
  const i = argv.indexOf('--harness');
  const harness = (i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--harness='))?.slice(10)) as Harness | undefined;
  if (!harness || !(harness in ADAPTERS)) out('', `stint guard: --harness ${Object.keys(ADAPTERS).join('|')} is required; blocked\n`, 2);
  const adapter = ADAPTERS[harness!];
  const block = (why: string) => {
    const r = adapter.render({ kind: 'block', reason: `stint guard [uncertain]: ${why}; blocked (fail closed)` }, undefined);
    out(r.stdout, r.stderr, r.exitCode);
  };
  // performance.now() counts from the process's start: the bundled hook's deadline includes
  // Node's own start-up; through the CLI (`npx stint guard`, slow to load) it starts here
  const deadline = performance.now() < TOTAL_MS / 2 ? TOTAL_MS : performance.now() + TOTAL_MS;
  const watchdog = setTimeout(() => block(`no decision within ${TOTAL_MS} ms`), Math.max(1, deadline - 30 - performance.now()));
  watchdog.unref?.();
  const input = await readInput();

  if (o.warm && warmEnabled(process.env)) {
    const dir = warmDir(process.env);
    const env = requestEnv(process.env);
    const usable = env !== undefined && privateDir(dir);
    if (usable) {
      const t0 = performance.now();
      const r = await askWarm(socketPath(dir), { v: 1, harness: harness!, input, env: env!, cwd: process.cwd(), budgetMs: deadline - 40 - performance.now() }, deadline - 40 - performance.now());
      if (r === 'late') block(`the warm guard gave no decision within ${TOTAL_MS} ms`);
      if (typeof r === 'object') {
        const note = process.env.STINT_GUARD_DEBUG ? `stint guard: answered by the warm guard in ${(performance.now() - t0).toFixed(1)} ms, ${performance.now().toFixed(1)} ms since start\n` : '';
        out(r.stdout, r.stderr + note, r.code);
      }
    }
    // nobody answered: start one for the next call (unless the directory is someone else's)
    if (env !== undefined && (usable || !existsSync(dir))) await startWarm(o.warm);
  }

  const [{ runGuard }, { shortLived }] = await Promise.all([import('./run.js'), import('./shell.js')]);
  // this process lives for one tool call: the shell grammar is compiled with the baseline compiler only
  shortLived.process = true;
  const { rendered } = await runGuard({ harness: harness!, input, deadline: deadline - 60, brokerTimeoutMs: 5000 });
  out(rendered.stdout, rendered.stderr, rendered.exitCode);
}

/** The bundled hook's start (hook.ts): any failure is a block. */
export function hookMain(argv: string[], entry: string) {
  guardMain(argv, { warm: entry }).catch((e) => out('', `stint guard failed: ${(e as Error).message}; blocked\n`, 2));
}
