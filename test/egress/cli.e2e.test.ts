import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_ADMIN, liveBroker } from '../helpers/live.js';
import { ROOT, stintRun } from './helpers.js';

let b: Awaited<ReturnType<typeof liveBroker>>;
beforeAll(async () => {
  b = await liveBroker();
});
afterAll(() => b?.close());

function stint(args: string[], stdin: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `file://${join(ROOT, 'node_modules/tsx/dist/loader.mjs')}`, join(ROOT, 'src/cli/main.ts'), ...args], { env: { ...process.env, STINT_URL: b.issuer, STINT_ADMIN_TOKEN: LIVE_ADMIN, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('stint vault', () => {
  it('put reads the value from stdin, answers without it; list shows names and hosts, never values', async () => {
    const put = await stint(['vault', 'put', 'gh-staging', '--environment', 'staging', '--host', 'api.github.com,uploads.github.com', '--header', 'Authorization', '--scheme', 'Bearer', '--json'], 'ghp_vaultvalue0123456789abcdefghijklmnopqr\n');
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).not.toContain('vaultvalue');
    expect(JSON.parse(put.stdout)).toMatchObject({ name: 'gh-staging', environment: 'staging', hosts: ['api.github.com', 'uploads.github.com'] });
    const list = await stint(['vault', 'list'], '');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/gh-staging\s+staging\s+api\.github\.com,uploads\.github\.com\s+Authorization Bearer/);
    expect(list.stdout).not.toContain('vaultvalue');
  });

  it('refuses an unknown environment with exit 2 and one line', async () => {
    const r = await stint(['vault', 'put', 'x', '--environment', 'nowhere', '--host', 'a.example'], 'value-value-value');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown environment/);
  });
});

describe('stint run refuses to start', () => {
  it('without a task (no --template, no current task)', async () => {
    const r = await stintRun(['--', 'true'], { STINT_HOME: mkdtempSync(join(tmpdir(), 'stint-home-')) }, tmpdir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no current task/);
  });

  it('with a malformed --env', async () => {
    const r = await stintRun(['--env', 'lowercase only', '--', 'true'], {}, tmpdir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--env/);
  });
});
