// The bundled hook (dist/hook/stint-guard.mjs, a single file built on its own so that a call
// loads one module): it reads the event, hands it to the warm guard (warm.ts), and only when
// none answers loads the decision (main.ts) and decides in its own process. Any failure blocks.
// `--serve` runs the warm guard itself (serve.ts).
// On Node ≥ 22.1 it turns on Node's on-disk compile cache first (NODE_DISABLE_COMPILE_CACHE=1
// turns it off), so the code it loads on demand is compiled once per machine, not per call.
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import type { Harness } from './event.js';
import { block, deadlineWithWatchdog, harnessOf, out, readInput } from './process.js';
import { askWarm, privateDir, requestEnv, socketPath, warmDir, warmEnabled } from './warm.js';

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

async function hook(argv: string[]): Promise<never> {
  const harness: Harness = harnessOf(argv);
  const deadline = deadlineWithWatchdog(harness);
  const input = await readInput();
  if (warmEnabled(process.env)) {
    const dir = warmDir(process.env);
    const env = requestEnv(process.env);
    const usable = env !== undefined ? privateDir(dir) : undefined;
    if (usable) {
      const t0 = performance.now();
      const r = await askWarm(socketPath(usable), { v: 1, harness, input, env: env!, cwd: process.cwd(), budgetMs: deadline - 40 - performance.now() }, deadline - 40 - performance.now());
      if (r === 'late') block(harness, 'the warm guard gave no decision in time');
      if (typeof r === 'object') {
        const note = process.env.STINT_GUARD_DEBUG ? `stint guard: answered by the warm guard in ${(performance.now() - t0).toFixed(1)} ms, ${performance.now().toFixed(1)} ms since start\n` : '';
        out(r.stdout, r.stderr + note, r.code);
      }
    }
    // nobody answered: start one for the next call (unless the directory is someone else's)
    if (env !== undefined && (usable || !existsSync(dir))) await startWarm(decodeURIComponent(new URL(import.meta.url).pathname));
  }
  const { decideHere } = await import('./main.js');
  return decideHere(harness, input, deadline);
}

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv[0] === '--serve') (await import('./serve.js')).serveWarm().catch(() => process.exit(1));
else hook(argv).catch((e) => out('', `stint guard failed: ${(e as Error).message}; blocked\n`, 2));
