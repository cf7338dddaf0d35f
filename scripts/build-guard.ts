// Bundles the hook into dist/hook/stint-guard.mjs: plain JavaScript, one file plus lazily
// loaded chunks (GraphQL, SQL), and the two WebAssembly files beside it. A harness spawns this
// before every tool call, so it must start as fast as Node itself allows (no tsx, no JOSE).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
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
console.log(`built ${out}stint-guard.mjs`);
