// Bundles the hook into dist/hook/stint-guard.mjs: plain JavaScript, one file plus lazily
// loaded chunks (GraphQL, SQL), and the two WebAssembly files beside it. A harness spawns this
// before every tool call, so it must start as fast as Node itself allows (no tsx, no JOSE).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const out = new URL('../dist/hook/', import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { 'stint-guard': new URL('../src/guard/hook.ts', import.meta.url).pathname },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  minify: true,
  legalComments: 'none',
  // web-tree-sitter probes for these only in a browser
  external: ['fs/promises', 'module'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), `${out}web-tree-sitter.wasm`);
copyFileSync(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'), `${out}tree-sitter-bash.wasm`);
// The build's id (a hash of every file of it): a hook talks only to a warm guard of the same
// build (src/guard/warm.ts), so an upgrade never asks a process still running the old code.
const files = readdirSync(out).sort();
const hash = createHash('sha256');
for (const f of files) hash.update(f).update('\0').update(readFileSync(`${out}${f}`)).update('\0');
const id = hash.digest('hex');
let stamped = 0;
for (const f of files.filter((f) => f.endsWith('.mjs'))) {
  const text = readFileSync(`${out}${f}`, 'utf8');
  if (!text.includes('__STINT_GUARD_BUILD__')) continue;
  writeFileSync(`${out}${f}`, text.replaceAll('__STINT_GUARD_BUILD__', id));
  stamped++;
}
if (stamped !== 1) throw new Error(`build:guard: the build id belongs in one file, found in ${stamped}`);
console.log(`built ${out}stint-guard.mjs`);
