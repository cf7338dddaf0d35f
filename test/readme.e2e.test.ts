// The README's first hour, run as a person runs it: `npm start` with no settings in a folder laid
// out like a clone, then every command block of "First hour" exactly as the README writes it
// (`npx stint …` with no --url, the SDK and verifier examples saved as files and run with node).
// If the README changes, this test runs the new text.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StintAgent, importAgentKey } from '../src/sdk/agent.js';
import { ROOT } from './helpers/process.js';

/** The fenced blocks of one README section, in order. */
function blocks(section: string): { lang: string; code: string }[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${section}`);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

const dir = mkdtempSync(join(tmpdir(), 'stint-readme-'));
// A clone after `npm ci`: the repository's files (linked), its own data folder and HOME.
for (const f of ['node_modules', 'package.json', 'dist', 'bin', 'packages', 'policies', 'src']) symlinkSync(join(ROOT, f), join(dir, f));
mkdirSync(join(dir, 'home'));
const env = { PATH: process.env.PATH!, HOME: join(dir, 'home') };
let stint: ChildProcess;
let output = '';

/** Runs a shell block with `set -e`, carrying exported variables from one block to the next. */
function sh(code: string) {
  const script = `set -euo pipefail\n[ -f .exports ] && source .exports\n${code}\nexport -p > .exports\n`;
  const r = spawnSync('bash', ['-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) console.error(`block failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const exported = (name: string) => new RegExp(`declare -x ${name}="([^"]*)"`).exec(readFileSync(join(dir, '.exports'), 'utf8'))?.[1];

beforeAll(async () => {
  stint = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  await new Promise<void>((resolve, reject) => {
    const on = (d: Buffer) => {
      output += d.toString();
      if (/stint ready /.test(output)) resolve();
    };
    stint.stdout!.on('data', on);
    stint.stderr!.on('data', on);
    stint.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${output}`)));
  });
}, 120_000);
afterAll(() => {
  try {
    process.kill(-stint.pid!, 'SIGTERM');
  } catch {
    // gone
  }
});

describe('the README, as written', () => {
  const [operator, agentJs, resourceJs, harness] = blocks('First hour: one story, four people');

  it('has the blocks this test runs', () => {
    expect([operator?.lang, agentJs?.lang, resourceJs?.lang, harness?.lang]).toEqual(['sh', 'js', 'js', 'sh']);
  });

  it('npm start prints the public URLs on its ready line', () => {
    expect(output).toContain('stint ready broker=http://localhost:8787 approvals=http://localhost:8788');
  });

  it("the operator's commands", () => {
    const r = sh(operator!.code);
    expect(r.stderr + r.stdout, r.stderr).not.toMatch(/^stint: /m);
    expect(r.status).toBe(0);
    expect(exported('CLIENT_ID')).toMatch(/^agt_/);
    expect(r.stdout).toContain('coder-1');
    expect(r.stdout).toMatch(/audit log intact/);
    expect(JSON.parse(readFileSync(join(dir, 'resource.json'), 'utf8')).client_secret).toBeTruthy();
  }, 240_000);

  it("the agent author's agent.mjs", () => {
    writeFileSync(join(dir, 'agent.mjs'), agentJs!.code);
    const r = spawnSync('node', ['agent.mjs'], { cwd: dir, env: { ...env, CLIENT_ID: exported('CLIENT_ID')! }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^task_\S+ config\.read until /m);
    expect(r.stdout).toContain('db.read: invalid_authorization_details');
    expect(r.stdout).toMatch(/^completed$/m);
  }, 90_000);

  it("the resource author's resource.mjs, called by an agent as the README says", async () => {
    writeFileSync(join(dir, 'resource.mjs'), resourceJs!.code);
    const rs = spawn('node', ['resource.mjs'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        rs.stdout!.on('data', (d) => (out += d) && /config service on/.test(out) && resolve());
        rs.stderr!.on('data', (d) => (out += d));
        rs.once('exit', (code) => reject(new Error(`resource.mjs exited ${code}: ${out}`)));
      });
      const agent = new StintAgent({ url: 'http://localhost:8787', clientId: exported('CLIENT_ID')!, key: await importAgentKey(JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'))) });
      const task = await agent.openTask({ template: 'fix-credentials', environment: 'staging', purpose: 'read the staging config' });
      const res = await task.fetch('http://localhost:9000/config', { capability: { scope: 'config.read' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ task: task.id });
      await task.complete();
    } finally {
      rs.kill('SIGTERM');
    }
  }, 90_000);

  it("the harness start: task open with no --url, the hook on one allowed call, complete", () => {
    const r = sh(harness!.code);
    expect(r.stderr + r.stdout, r.stderr).not.toMatch(/^stint: (?!every )/m);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^task_\S+$/m);
    expect(r.stdout).toMatch(/active/);
    expect(r.stdout).toMatch(/completed/);
  }, 240_000);
});
