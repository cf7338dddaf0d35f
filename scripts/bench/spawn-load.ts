import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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

/** One measured load run (load.ts); `server` and `generatorCpu` are % of one core. */
export interface MeasuredLoad extends LoadResult {
  used: number;
  available: number;
  server?: { main: number; others: number };
  generatorCpu?: number;
}

/** Runs one load generator (load.ts) in its own process and waits for its result. */
export function loadNow(dir: string, name: string, spec: LoadSpec, log: (m: string) => void): MeasuredLoad {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  log(`${name}: ${spec.rate ? `${spec.rate} req/s` : 'as fast as it goes'} for ${spec.seconds}s, ${spec.connections} connections`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./load.ts', import.meta.url)), file], { maxBuffer: 1 << 26 }).toString().trim().split('\n').pop()!;
  return JSON.parse(out) as MeasuredLoad;
}

/** Starts a bench server (`node --import tsx …args`), kept in `children`; resolves once it prints "ready". */
export function spawnReady(args: string[], children: ChildProcess[]): Promise<ChildProcess> {
  return new Promise<ChildProcess>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    c.stdout!.on('data', (d) => String(d).includes('ready') && resolve(c));
    c.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
}
