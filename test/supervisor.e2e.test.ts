import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childPid } from '../scripts/bench/threads.js';
import { freePort, startStint, type Started } from './helpers/process.js';

// `npm start` supervises its two processes (issue 23 item 4): a crash is never a clean exit.
const start = async (env: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'stint-sup-'));
  return startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(await freePort()), STINT_APPROVAL_PORT: String(await freePort()), ...env });
};
const pidOf = (s: Started, name: 'broker' | 'approvals') => {
  const pid = childPid(s.child.pid!, `${name}.ts`);
  if (!pid) throw new Error(`no ${name} process under ${s.child.pid}`);
  return pid;
};
const exitOf = (s: Started) => new Promise<number | null>((r) => (s.child.exitCode !== null ? r(s.child.exitCode) : s.child.once('exit', (code) => r(code))));
const until = async (what: () => boolean | Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
};
const status = (url: string) => fetch(url).then((r) => r.status, () => 0);

describe('npm start supervises its processes', () => {
  it('with restarts off, a killed child makes it exit 1 naming the child', async () => {
    const s = await start({ STINT_RESTARTS: '0' });
    try {
      const exited = exitOf(s);
      process.kill(pidOf(s, 'broker'), 'SIGKILL');
      expect(await exited).toBe(1);
      expect(s.output()).toMatch(/stint: broker process exited \(SIGKILL\); stopping/);
    } finally {
      await s.kill();
    }
  }, 120_000);

  it('restarts a crashed approval service; the broker serves on meanwhile, and a clean stop still exits 0', async () => {
    const s = await start();
    try {
      process.kill(pidOf(s, 'approvals'), 'SIGKILL');
      await until(() => /approvals process exited \(SIGKILL\); restarting it/.test(s.output()));
      // The broker never went down: it answers while the approval service is away or back.
      expect(await status(`${s.broker}/healthz`)).toBe(200);
      const ready = (await (await fetch(`${s.broker}/readyz`)).json()) as { ready: boolean; status: string };
      expect(ready.ready).toBe(true);
      await until(() => /stint: approvals restarted at /.test(s.output()));
      await until(async () => (await status(`${s.approvals}/healthz`)) === 200);
      expect(s.child.exitCode).toBeNull();
      expect(await s.stop()).toBe(0);
    } finally {
      await s.kill();
    }
  }, 120_000);
});
