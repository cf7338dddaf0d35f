#!/usr/bin/env node
// The `stint` command: the compiled CLI (dist/, built by `npm run build`, which the install's
// `prepare` step runs). From a checkout without a build, it falls back to the TypeScript source
// through tsx (a development dependency).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
