import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorClient } from '../../src/client/operator.js';
import { saveState } from '../../src/guard/state.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { listen } from '../../src/runtime/node/serve.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { claudeBash, claudeRead, RAILWAY_TOKEN, workspace } from './helpers.js';

// The real hook process, as a harness spawns it: the pre-built bundle against a broker on a port.
const root = new URL('../../', import.meta.url).pathname;
let server: { close(): void };
let home: string;
let cwd: string;
let operator: OperatorClient;
let issuerUrl: string;
let dirRoot: string;

/** A new agent with a staging task, saved under its own STINT_HOME (a stop locks the agent). */
async function freshTask(name: string): Promise<string> {
  const agent = await operator.agent(name, 'alice', ['fix-credentials']);
  const opened = await agent.openTask('fix-credentials', 'staging', 'fix the staging credentials');
  const dpop = await agent.dpopKey();
  const h = join(dirRoot, name, '.stint');
  saveState({ version: 1, url: issuerUrl, issuer: issuerUrl, client_id: agent.clientId, task_id: opened.body.task_id, template: 'fix-credentials', environment: 'staging', purpose: 'p', task_token: opened.body.access_token, expires_at: Math.floor(Date.now() / 1000) + opened.body.expires_in, dpop: { alg: 'EdDSA', private_jwk: await exportJWK(dpop.privateKey), public_jwk: dpop.publicJwk, jkt: dpop.jkt } }, h);
  return h;
}

function hook(event: unknown, env: Record<string, string> = {}, stintHome = home): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [join(root, 'dist/hook/stint-guard.mjs'), '--harness', 'claude-code'], { env: { ...process.env, STINT_HOME: stintHome, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(JSON.stringify(event));
  });
}

beforeAll(async () => {
  const build = spawnSync('node', ['--import', 'tsx', 'scripts/build-guard.ts'], { cwd: root });
  if (build.status !== 0) throw new Error(`build:guard failed: ${build.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'stint-guard-proc-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const admin = `t-${crypto.randomUUID()}`;
  const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir(join(root, 'policies')), issuer, adminToken: admin, masterKey: new Uint8Array(32).fill(3) });
  server = await listen(broker.app, '127.0.0.1', port);
  operator = new OperatorClient(issuer, admin);
  issuerUrl = issuer;
  dirRoot = dir;
  home = await freshTask('proc-agent');
  cwd = workspace();
}, 120_000);
afterAll(() => server?.close());

describe('the stint guard process (dist bundle), as a harness runs it', () => {
  it('allows benign calls, blocks the read, stops at the token’s first use', async () => {
    for (const cmd of ['git status', 'npm test && npx tsc --noEmit', 'grep -rn TODO src | head', "cat <<'EOF' > src/a.ts\nexport {}\nEOF"]) {
      const r = await hook(claudeBash(cmd, cwd));
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
    }
    const read = await hook(claudeRead(join(cwd, 'ops/railway.env'), cwd));
    expect(read.code).toBe(2);
    expect(JSON.parse(read.stdout).continue).toBeUndefined();
    const stop = await hook(claudeBash(`curl -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer ${RAILWAY_TOKEN}" -d '{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}'`, cwd));
    expect(stop.code).toBe(2);
    expect(JSON.parse(stop.stdout)).toMatchObject({ continue: false, hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(stop.stdout + stop.stderr).not.toContain(RAILWAY_TOKEN);
  });

  it('reads GraphQL in the bundle: a benign query is allowed (the parser chunk exports only default)', async () => {
    const q = `curl -s -X POST https://api.staging.example/graphql -H 'Content-Type: application/json' -d '{"query":"query { volumes { id name } }"}'`;
    const h = await freshTask('proc-graphql');
    const r = await hook(claudeBash(q, cwd), {}, h);
    expect(r.code, r.stderr).toBe(0);
    const raw = await hook(claudeBash(`curl -s https://api.staging.example/graphql --data-urlencode 'query={ me { id } }' -G`, cwd), {}, h);
    expect(raw.code, raw.stderr).toBe(0);
  });

  it('answers within its deadline on the 150 KB a-a-a header beside the incident (analysed to the end: a stop)', async () => {
    const cmd = `curl -X POST https://backboard.railway.app/graphql/v2 -H "X-Pad: ${'a-'.repeat(75_000)}" -H "Authorization: Bearer ${RAILWAY_TOKEN}" -d '{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}'`;
    const r = await hook(claudeBash(cmd, cwd), { STINT_GUARD_DEADLINE_MS: '2000' }, await freshTask('proc-huge'));
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    // a stop, or (on a machine too loaded to finish) a block as uncertain: never an allow
    expect(out.hookSpecificOutput.permissionDecision).toBe('deny');
    expect(out.continue === false || /uncertain/.test(r.stderr)).toBe(true);
  });

  it('another agent\'s stint token in a call: the presenter is stopped and the token revoked (the bundle hands it to its issuer)', async () => {
    const victim = await operator.agent('proc-victim', 'bob', ['fix-credentials']);
    const opened = await victim.openTask('fix-credentials', 'staging', 'its own work');
    const token = opened.body.access_token as string;
    expect((await operator.introspect(token)).active).toBe(true);
    const r = await hook(claudeBash(`curl -H "Authorization: Bearer ${token}" https://api.staging.example/config`, cwd), {}, await freshTask('proc-presenter'));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ continue: false });
    expect(await operator.introspect(token)).toEqual({ active: false });
  });
});
