// Bundles the hook into dist/hook/: stint-guard.mjs, the one file a harness runs before every tool
// call (it asks the warm guard and loads nothing else when that one answers); main.mjs (the
// decision in the hook's own process) and serve.mjs (the warm guard), with the parsers in chunks
// loaded on demand (GraphQL, SQL) and the two WebAssembly files beside them. No tsx, no JOSE.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build, type BuildOptions } from 'esbuild';

const require = createRequire(import.meta.url);
const out = new URL('../dist/hook/', import.meta.url).pathname;
const src = (f: string) => new URL(`../src/guard/${f}`, import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const common: BuildOptions = {
  bundle: true,
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
};
// The decision and the warm guard: main.mjs and serve.mjs, with the parsers in chunks loaded on demand.
await build({
  ...common,
  entryPoints: { main: src('main.ts'), serve: src('serve.ts') },
  outdir: out,
  splitting: true,
  entryNames: '[name]',
});
// The hook a harness runs: one file (a call that the warm guard answers loads nothing else),
// importing the two above only when it needs them.
await build({
  ...common,
  entryPoints: { 'stint-guard': src('hook.ts') },
  outdir: out,
  plugins: [
    {
      name: 'sibling-bundles',
      setup(b) {
        b.onResolve({ filter: /^\.\/(main|serve)\.js$/ }, (a) => (a.importer.endsWith('hook.ts') ? { path: a.path.replace(/\.js$/, '.mjs'), external: true } : undefined));
      },
    },
  ],
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
// the hook and the warm guard each carry it
if (stamped !== 2) throw new Error(`build:guard: the build id belongs in the hook and the warm guard, found in ${stamped} files`);
console.log(`built ${out}stint-guard.mjs`);
