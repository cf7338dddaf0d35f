// The real hook process, as a harness spawns it: the pre-built bundle (dist/hook/stint-guard.mjs)
// against a broker on a port, each agent's task saved under its own STINT_HOME.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { OperatorClient } from '../../src/client/operator.js';
import { saveState } from '../../src/guard/state.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { listen } from '../../src/runtime/node/serve.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';

export const root = new URL('../../', import.meta.url).pathname;
export const bundle = join(root, 'dist/hook/stint-guard.mjs');

export interface HookResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built hook once with `event` on stdin. */
export function spawnHook(event: unknown, env: Record<string, string | undefined>, o: { harness?: string; cwd?: string } = {}): Promise<HookResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [bundle, '--harness', o.harness ?? 'claude-code'], { env: { ...process.env, ...env }, cwd: o.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(typeof event === 'string' ? event : JSON.stringify(event));
  });
}

/** Builds the hook, starts a broker with the repository's policies; `freshTask` saves a new agent's staging task. */
export async function hookBroker() {
  const build = spawnSync('node', ['--import', 'tsx', 'scripts/build-guard.ts'], { cwd: root });
  if (build.status !== 0) throw new Error(`build:guard failed: ${build.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'stint-guard-proc-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const admin = `t-${crypto.randomUUID()}`;
  const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir(join(root, 'policies')), issuer, adminToken: admin, masterKey: new Uint8Array(32).fill(3) });
  const server = await listen(broker.app, '127.0.0.1', port);
  const operator = new OperatorClient(issuer, admin);
  /** A new agent with a staging task, saved under its own STINT_HOME (a stop locks the agent). */
  async function freshTask(name: string): Promise<string> {
    const agent = await operator.agent(name, 'alice', ['fix-credentials']);
    const opened = await agent.openTask('fix-credentials', 'staging', 'fix the staging credentials');
    const dpop = await agent.dpopKey();
    const h = join(dir, name, '.stint');
    saveState({ version: 1, url: issuer, issuer, client_id: agent.clientId, task_id: opened.body.task_id, template: 'fix-credentials', environment: 'staging', purpose: 'p', task_token: opened.body.access_token, expires_at: Math.floor(Date.now() / 1000) + opened.body.expires_in, dpop: { alg: 'EdDSA', private_jwk: await exportJWK(dpop.privateKey), public_jwk: dpop.publicJwk, jkt: dpop.jkt } }, h);
    return h;
  }
  return { dir, operator, freshTask, close: () => server.close() };
}
