import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorClient } from '../src/client/operator.js';
import { freePort, ROOT, startStint, type Started } from './helpers/process.js';

// @stint/verify and @stint/agent as a user gets them: `npm pack`ed, installed from the tarballs
// into an empty plain-JavaScript folder (no TypeScript), used from an .mjs file against the
// two processes `npm start` runs.

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'stint-pkgs-'));
const ADMIN = 'pkgs-operator-token-0123456789';
const CONFIG = 'https://api.staging.example/config';
let stint: Started;
let issuer: string;

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://localhost:${port}`;
  stint = await startStint({
    STINT_DB: join(dir, 'stint.db'),
    STINT_PORT: String(port),
    STINT_APPROVAL_PORT: String(await freePort()),
    STINT_ADMIN_TOKEN: ADMIN,
    STINT_MASTER_KEY: Buffer.alloc(32, 4).toString('base64'),
  });
});
afterAll(async () => {
  await stint?.stop();
});

const USE = `
import { readFileSync } from 'node:fs';
import { StintAgent, importAgentKey, StintAgentError } from '@stint/agent';
import { StintVerifier, verify } from '@stint/verify';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const verifier = new StintVerifier({ issuer: cfg.issuer, brokerUrl: cfg.broker, audience: cfg.audience, environment: 'staging', clientId: cfg.resource.client_id, clientSecret: cfg.resource.client_secret });
await verifier.start();
// The resource service: framework-free verify(request) on a Fetch API Request.
const service = async (request) => {
  const r = await verify(verifier, request, { capability: 'config.write' });
  return r.ok ? Response.json({ ok: true, task: r.claims.task_id }) : r.response;
};
const agent = new StintAgent({
  issuer: cfg.issuer,
  brokerUrl: cfg.broker,
  clientId: cfg.clientId,
  key: await importAgentKey(cfg.key),
  fetch: (url, init) => (String(url).startsWith(cfg.audience) ? service(new Request(url, init)) : fetch(url, init)),
});
const task = await agent.openTask({ template: 'fix-credentials', environment: 'staging', purpose: 'rotate the staging DB password' });
const res = await task.fetch(cfg.audience, { method: 'POST', capability: { scope: 'config.write' } });
const again = await task.fetch(cfg.audience, { method: 'POST', capability: { scope: ['config.write'] } });
const bare = await service(new Request(cfg.audience, { method: 'POST' }));
let outside;
try { await task.capability({ scope: 'db.read' }); } catch (e) { outside = e instanceof StintAgentError ? e.code : String(e); }
const status = await task.status();
const done = await task.complete();
const after = await service(new Request(cfg.audience, { method: 'POST' }));
verifier.stop();
console.log(JSON.stringify({ task: task.id, first: [res.status, await res.json()], second: again.status, bare: bare.status, outside, status: status.status, completed: done.status, after: after.status }));
`;

describe('packages', () => {
  it('@stint/verify and @stint/agent install from their tarballs into a plain JS project and work against a started broker', async () => {
    const tarballs: string[] = [];
    for (const p of ['verify', 'agent']) {
      const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: join(ROOT, 'packages', p) });
      tarballs.push(join(dir, stdout.trim().split('\n').pop()!));
    }
    const app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'plain-js-app', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], { cwd: app });
    // No TypeScript, no native module, no broker in what got installed; the types are shipped.
    const installed = readdirSync(join(app, 'node_modules'));
    for (const absent of ['typescript', 'tsx', 'better-sqlite3', 'libsodium-wrappers', '@aws-sdk', 'stint']) expect(installed).not.toContain(absent);
    expect(existsSync(join(app, 'node_modules/@stint/verify/dist/verify/index.d.ts'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/@stint/agent/dist/sdk/index.d.ts'))).toBe(true);

    // The operator registers the resource service and the agent.
    const op = new OperatorClient(issuer, ADMIN, { brokerUrl: stint.broker });
    const resource = await op.resource('config', CONFIG);
    const { generateAgentKey } = await import('../src/sdk/index.js');
    const key = await generateAgentKey();
    const { exportJWK } = await import('jose');
    const reg = await op.call('POST', '/v1/agents', { name: 'sdk-bot', owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] });
    expect(reg.status).toBe(201);
    const cfg = { issuer, broker: stint.broker, audience: CONFIG, resource, clientId: reg.body.client_id, key: { alg: key.alg, private_jwk: await exportJWK(key.privateKey), public_jwk: key.publicJwk } };
    writeFileSync(join(app, 'config.json'), JSON.stringify(cfg));
    writeFileSync(join(app, 'use.mjs'), USE);

    const { stdout } = await run(process.execPath, ['use.mjs', 'config.json'], { cwd: app });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out.first).toEqual([200, { ok: true, task: out.task }]);
    expect(out.second).toBe(200);
    expect(out.bare).toBe(401);
    expect(out.outside).toBe('invalid_authorization_details');
    expect(out.status).toBe('active');
    expect(out.completed).toBe('completed');
    expect(out.after).toBe(401);
  }, 240_000);
});
