import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSodiumSealer } from '../src/adapters/sealing/libsodium.js';
import { ApproverClient, type ApproverKeyFile } from '../src/client/approver.js';
import { OperatorClient } from '../src/client/operator.js';
import type { AgentClient } from '../src/client/agent.js';
import { E2E_RUNTIME, freePort, ROOT, startStint, type Started } from './helpers/process.js';

// The approval path end to end over the two processes `npm start` runs, decided with the CLI.

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'stint-approvals-'));
const ADMIN = 'e2e-operator-token-0123456789';
const APPROVAL_ADMIN = 'e2e-approval-admin-0123456789';
const MASTER = Buffer.alloc(32, 7).toString('base64');
const APPROVAL_MASTER = Buffer.alloc(32, 8).toString('base64');
let stint: Started;
let op: OperatorClient;
let agent: AgentClient;
let taskToken: string;

const cli = async (...args: string[]) => {
  try {
    const r = await run(process.execPath, [join(ROOT, 'bin/stint.mjs'), ...args], { env: { ...process.env, STINT_APPROVAL_ADMIN_TOKEN: APPROVAL_ADMIN }, cwd: dir });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e: any) {
    return { code: e.code as number, out: e.stdout as string, err: e.stderr as string };
  }
};

async function approver(name: string, groups: string) {
  const file = join(dir, `${name}.json`);
  const gen = await cli('keygen', '--out', file);
  expect(gen.code, gen.err).toBe(0);
  const add = await cli('approvers', 'add', '--name', name, '--groups', groups, '--key', file, '--url', stint.approvals);
  expect(add.code, add.err).toBe(0);
  const k = JSON.parse(readFileSync(file, 'utf8')) as ApproverKeyFile;
  return { file, client: new ApproverClient(stint.approvals, k.approver_id!, k) };
}

const poll = (id: string) => agent.token({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: id });
const ask = async (scope: string) => {
  const r = await agent.exchange(taskToken, scope);
  expect(r.body.error).toBe('approval_required');
  return r.body.auth_req_id as string;
};

beforeAll(async () => {
  // (Workers: wrangler dev takes a while to come up.)
  const port = await freePort();
  stint = await startStint({
    STINT_DB: join(dir, 'stint.db'),
    STINT_PORT: String(port),
    STINT_APPROVAL_PORT: String(await freePort()),
    STINT_ADMIN_TOKEN: ADMIN,
    STINT_APPROVAL_ADMIN_TOKEN: APPROVAL_ADMIN,
    STINT_MASTER_KEY: MASTER,
    STINT_APPROVAL_MASTER_KEY: APPROVAL_MASTER,
  });
  op = new OperatorClient(`http://localhost:${port}`, ADMIN, { brokerUrl: stint.broker });
  agent = await op.agent('ops-bot', 'alice', ['ops-maintenance']);
  const t = await agent.openTask('ops-maintenance', 'production', 'reclaim the old analytics volume');
  taskToken = t.body.access_token;
});
afterAll(async () => {
  await stint?.stop();
});

describe('approvals over the two processes', () => {
  it('quorum of two from the CLI; owner and outsider refused; one grant by the approval authority, used once', async () => {
    const id = await ask('volume.delete');
    const [bob, carol, alice, dave] = [await approver('bob', 'sre'), await approver('carol', 'sre'), await approver('alice', 'sre'), await approver('dave', 'dev')];

    const list = await cli('approvals', 'list', '--key', bob.file);
    expect(list.out).toContain(id);
    expect(list.out).toContain('volume.delete on https://api.production.example/volumes in production');
    expect(list.out).toContain('reclaim the old analytics volume');

    const byOwner = await cli('approvals', 'approve', id, '--key', alice.file);
    expect(byOwner.code).toBe(2);
    expect(byOwner.err).toMatch(/403 forbidden.*owns the requesting agent/);
    expect((await cli('approvals', 'approve', id, '--key', dave.file)).err).toMatch(/403 forbidden/);
    const byBob = await cli('approvals', 'approve', id, '--key', bob.file);
    expect(byBob.out).toMatch(/^approved: .* pending/);
    // What was signed was shown first (issue 12, finding 3).
    expect(byBob.err).toMatch(/^approving:\n.*\n  action:   volume\.delete on https:\/\/api\.production\.example\/volumes in production\n  agent:    ops-bot .*owner alice/);
    expect((await poll(id)).body.error).toBe('authorization_pending');
    expect((await cli('approvals', 'approve', id, '--key', carol.file)).out).toMatch(/^approved: .* approved/);

    await new Promise((r) => setTimeout(r, 5100)); // the poll interval
    const grant = await poll(id);
    expect(grant.status).toBe(200);
    const jwks = (await (await fetch(`${stint.approvals}/.well-known/jwks.json`)).json()) as any;
    expect(decodeProtectedHeader(grant.body.access_token).kid).toBe(jwks.keys[0].kid);

    // The resource service's introspection consumes the grant; the operator's would not (issue 12).
    const rs = await op.resource(`volumes-${crypto.randomUUID()}`, 'https://api.production.example/volumes');
    const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;
    const introspect = async (token: string) =>
      (await (await fetch(`${stint.broker}/introspect`, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) })).json()) as { active: boolean };
    const results = await Promise.all(Array.from({ length: 50 }, () => introspect(grant.body.access_token)));
    expect(results.filter((r) => r.active === true)).toHaveLength(1);
  }, 60_000); // thirteen CLI processes: ~2 s each when the machine is busy

  it('a replayed decision is refused; a denial ends the request', async () => {
    const id = await ask('backup.delete');
    const { client: erin } = await approver('erin', 'sre');
    const shown = await erin.show(id);
    const jws = await erin.decisionJws(id, 'deny', shown.body.digest);
    expect((await erin.call('POST', `/v1/approvals/${id}/decision`, { decision_jws: jws })).body.status).toBe('denied');
    expect((await erin.call('POST', `/v1/approvals/${id}/decision`, { decision_jws: jws })).status).toBe(409);
    expect((await poll(id)).body.error).toBe('access_denied');
  });

  it('refuses operator credentials, and stops the task of an agent credential presented there', async () => {
    expect((await fetch(`${stint.approvals}/v1/approvals`, { headers: { Authorization: `Bearer ${ADMIN}` } })).status).toBe(401);
    const other = await op.agent('nosy-bot', 'zoe', ['fix-credentials']);
    const t = await other.openTask('fix-credentials', 'staging', 'look around');
    // With a proof of its own key (htu = the approval service's URL as on the ready line).
    const res = await fetch(await other.request(`${stint.approvals}/v1/approvals`, t.body.access_token, { method: 'GET' }));
    expect(res.status).toBe(403);
    const view = await op.task(t.body.task_id);
    expect(view.body).toMatchObject({ status: 'stopped', status_reason: expect.stringMatching(/approval service/) });
  });

  it.skipIf(E2E_RUNTIME === 'worker')('the broker process cannot read the approval authority’s private key', async () => {
    // Find the broker child of the process `npm start` runs.
    const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    const children = pids.filter((p) => {
      try {
        return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(stint.child.pid);
      } catch {
        return false;
      }
    });
    const cmd = (p: string) => readFileSync(`/proc/${p}/cmdline`, 'utf8');
    const broker = children.find((p) => cmd(p).includes('runtime/node/broker.ts'))!;
    const approvals = children.find((p) => cmd(p).includes('runtime/node/approvals.ts'))!;
    expect(broker).toBeDefined();
    expect(approvals).toBeDefined();

    // Not in its environment: neither the key that seals the approval key nor the approval admin token.
    const env = readFileSync(`/proc/${broker}/environ`, 'utf8').split('\0');
    expect(env.some((v) => v.startsWith('STINT_APPROVAL_MASTER_KEY=') || v.startsWith('STINT_APPROVAL_ADMIN_TOKEN='))).toBe(false);
    expect(env.some((v) => v.includes(APPROVAL_MASTER))).toBe(false);
    // Not among its open files: the approval database.
    const files = readdirSync(`/proc/${broker}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${broker}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(files.some((f) => f.includes('approvals.db'))).toBe(false);
    expect(files.some((f) => f.endsWith('stint.db'))).toBe(true);
    // Not in its database, and what the approval service stores cannot be opened with the broker's key.
    const brokerDb = new Database(join(dir, 'stint.db'), { readonly: true });
    expect(brokerDb.prepare(`select count(*) n from signing_keys where use = 'approval'`).get()).toEqual({ n: 0 });
    brokerDb.close();
    const approvalDb = new Database(join(dir, 'approvals.db'), { readonly: true });
    const sealed = (approvalDb.prepare(`select sealed_private from signing_keys where use = 'approval'`).get() as { sealed_private: string }).sealed_private;
    approvalDb.close();
    const brokerSealer = await createSodiumSealer(Buffer.from(MASTER, 'base64'));
    await expect(brokerSealer.open(sealed)).rejects.toThrow();
    const approvalSealer = await createSodiumSealer(Buffer.from(APPROVAL_MASTER, 'base64'));
    expect(JSON.parse(new TextDecoder().decode(await approvalSealer.open(sealed))).d).toEqual(expect.any(String));
  });
});
