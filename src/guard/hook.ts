// The bundled hook's entry (dist/hook/stint-guard.mjs): it turns on Node's on-disk compile cache
// (Node ≥ 22.1; a no-op before) before the rest of the hook is loaded, so that the hook's own
// code and the parsers it loads on demand are compiled once per machine, not once per tool call.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node's own switch).
// `--serve` runs the warm guard (serve.ts) that later hook processes ask first (warm.ts).
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const argv = process.argv.slice(2);
if (argv[0] === '--serve') await (await import('./serve.js')).serveWarm();
else (await import('./main.js')).hookMain(argv, fileURLToPath(import.meta.url));
