// Launching stint as a child process and waiting for its ready line (tests, demo, benchmarks).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface Started {
  child: ChildProcess;
  broker: string;
  approvals: string;
  output: () => string;
  stop: () => Promise<number | null>;
  /** SIGKILL to the whole process group: the supervisor and both services die at once. */
  kill: () => Promise<void>;
}

/**
 * The entry point end-to-end tests start: `npm start`'s, or with STINT_E2E_RUNTIME=worker the
 * two Workers under `npm run dev:worker`, so the same tests run against both.
 */
export const E2E_RUNTIME = process.env.STINT_E2E_RUNTIME === 'worker' ? 'worker' : 'node';
const ENTRY = E2E_RUNTIME === 'worker' ? 'scripts/dev-worker.ts' : 'src/runtime/node/main.ts';

/** Runs `npm start`'s entry point and waits for the ready line (or the process's exit). */
export function startStint(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /stint ready broker=(\S+) approvals=(\S+)/.exec(out);
      if (m) {
        resolve({
          child,
          broker: m[1]!,
          approvals: m[2]!,
          output: () => out,
          stop: () => {
            try {
              process.kill(-child.pid!, 'SIGTERM'); // the whole group: wrangler and workerd too
            } catch {
              child.kill('SIGTERM');
            }
            return exited;
          },
          kill: async () => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // already gone
            }
            await exited;
            // Give the kernel a moment to reap the children too.
            await new Promise((r) => setTimeout(r, 100));
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => reject(Object.assign(new Error(`exited ${code}: ${out}`), { code, output: out })));
  });
}
