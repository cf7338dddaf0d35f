import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadSpec } from './load.js';

export interface LoadResult { rps: number; p50: number; p99: number; ok: number; non2xx: number; errors: number }

/** Runs one load generator (load.ts) in its own process without blocking this one; resolves with its result. */
export function loadInBackground(dir: string, name: string, spec: LoadSpec): Promise<LoadResult> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./load.ts', import.meta.url)), file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`load ${name} exited ${code}`))));
  });
}
