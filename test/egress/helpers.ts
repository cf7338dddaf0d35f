import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { newKey } from '../../src/client/proofs.js';
import { createRunCa } from '../../src/egress/ca.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { LIVE_ADMIN, liveBroker } from '../helpers/live.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
/** What the agent finds in the workspace (the incident's token). */
export const FOUND = '3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d';
/** The custody value the operator stored. */
export const REAL = 'a1b2c3d4-0000-4e8b-9c1f-realrailway00';
export const REAL_REST = 'rest-real-value-7c1d9e2f44a0';

export interface Seen {
  host: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Two fake TLS providers on loopback (Railway's GraphQL, a REST API), certificates from a test CA. */
export async function fakeProviders() {
  const ca = await createRunCa('fake upstream');
  const dir = mkdtempSync(join(tmpdir(), 'stint-fake-'));
  const caFile = join(dir, 'upstream-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const seen: Seen[] = [];
  const servers: Server[] = [];
  const start = async (host: string) => {
    const port = await freePort();
    const server = createServer({ SNICallback: (name, cb) => void ca.contextFor(name).then((c) => cb(null, c), cb) }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ host, method: req.method!, path: req.url!, headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'application/json', ...(req.url!.includes('echo') ? { 'X-Echo': String(req.headers.authorization) } : {}) });
        res.end(JSON.stringify({ data: { ok: true, ...(req.url!.includes('echo') ? { youSent: req.headers.authorization } : {}) } }));
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    servers.push(server);
    return port;
  };
  const gql = await start('backboard.railway.app');
  const rest = await start('api.staging.example');
  return {
    seen,
    caFile,
    resolve: `backboard.railway.app=127.0.0.1:${gql},api.staging.example=127.0.0.1:${rest}`,
    ports: { gql, rest },
    close: () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))),
  };
}

/** A live broker with the two custody entries of staging. */
export async function egressBroker() {
  const b = await liveBroker({ heartbeatMs: 200 });
  for (const e of [
    { name: 'railway-staging', environment: 'staging', hosts: ['backboard.railway.app'], header: 'Authorization', scheme: 'Bearer', value: REAL },
    { name: 'rest-staging', environment: 'staging', hosts: ['api.staging.example'], value: REAL_REST },
  ]) {
    const r = await b.operator.call('POST', '/v1/custody', e);
    if (r.status !== 201) throw new Error(`custody: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return b;
}

/** A registered agent and its key file (what `stint keygen` writes). */
export async function agentKeyFile(b: Awaited<ReturnType<typeof egressBroker>>, dir: string, name = `coder-${crypto.randomUUID().slice(0, 8)}`) {
  const key = await newKey();
  const res = await b.operator.call('POST', '/v1/agents', { name, owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] });
  if (res.status !== 201) throw new Error(`agent: ${res.status}`);
  const file = join(dir, `${name}.key.json`);
  writeFileSync(file, JSON.stringify({ alg: key.alg, private_jwk: await exportJWK(key.privateKey), public_jwk: key.publicJwk }), { mode: 0o600 });
  return { clientId: res.body.client_id as string, file };
}

/** A workspace holding the found token, as in the incident. */
export function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'stint-run-ws-'));
  mkdirSync(join(dir, 'infra/railway'), { recursive: true });
  writeFileSync(join(dir, 'infra/railway/project.json'), JSON.stringify({ projectId: 'p-1', apiToken: FOUND }));
  writeFileSync(join(dir, '.env'), `RAILWAY_TOKEN=${FOUND}\n`);
  return dir;
}

export interface RunResult {
  code: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `stint run` from source, as a person would start it. */
export function stintRun(args: string[], env: Record<string, string>, cwd: string, onChild?: (c: ChildProcess) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `file://${join(ROOT, 'node_modules/tsx/dist/loader.mjs')}`, join(ROOT, 'src/cli/main.ts'), 'run', ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    onChild?.(child);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export { LIVE_ADMIN };
