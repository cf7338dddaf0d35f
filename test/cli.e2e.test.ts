import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../src/client/agent.js';
import { freePort, ROOT, startStint, type Started } from './helpers/process.js';

// The `stint` binary's operator commands, end to end against the two processes `npm start` runs.

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'stint-cli-'));
const ADMIN = 'cli-operator-token-0123456789';
let stint: Started;
/** Every token and secret the flow saw: none may appear in the services' logs. */
const seen: string[] = [ADMIN];

const cli = async (args: string[], env: Record<string, string | undefined> = { STINT_ADMIN_TOKEN: ADMIN }) => {
  const e: Record<string, string | undefined> = { ...process.env, STINT_URL: stint?.broker, ...env };
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  try {
    const r = await run(process.execPath, [join(ROOT, 'bin/stint.mjs'), ...args], { env: e as NodeJS.ProcessEnv, cwd: dir });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err: any) {
    return { code: err.code as number, out: err.stdout as string, err: err.stderr as string };
  }
};
const json = async (args: string[]) => {
  const r = await cli([...args, '--json']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
};
/** A failure is one line on stderr, `stint: <reason>`, and exit status 2. */
const failsWith = async (args: string[], reason: RegExp, env?: Record<string, string | undefined>) => {
  const r = await cli(args, env);
  expect(r.code, r.out).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^stint: /);
  expect(r.err).toMatch(reason);
};

beforeAll(async () => {
  stint = await startStint({
    STINT_DB: join(dir, 'stint.db'),
    STINT_PORT: String(await freePort()),
    STINT_APPROVAL_PORT: String(await freePort()),
    STINT_ADMIN_TOKEN: ADMIN,
    STINT_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
  });
});
afterAll(async () => {
  await stint?.stop();
});

describe('stint CLI (operator commands)', () => {
  it('npx stint resolves to the clone\'s own bin with no install; --version prints the version', async () => {
    const help = await run('npx', ['--no-install', 'stint', '--help'], { cwd: ROOT, env: { ...process.env, CI: 'true' } });
    expect(help.stdout).toMatch(/^Usage: stint/);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect((await cli(['--version'])).out.trim()).toBe(version);
  }, 60_000);

  it('--help on the program and on every command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['keygen', 'agents', 'resources', 'tasks', 'revoke', 'audit', 'policy', 'approvers', 'approvals', 'aws']) expect(top.out).toContain(c);
    const commands = [
      ['keygen'], ['agents', 'add'], ['agents', 'list'], ['agents', 'show'], ['agents', 'release'], ['resources', 'add'], ['tasks', 'list'], ['tasks', 'show'], ['tasks', 'revoke'],
      ['revoke'], ['audit', 'tail'], ['audit', 'verify'], ['policy', 'check'], ['approvers', 'add'], ['approvals', 'list'], ['approvals', 'show'],
      ['approvals', 'approve'], ['approvals', 'deny'], ['aws', 'credential-process'],
    ];
    const helps = await Promise.all(commands.map((c) => cli([...c, '--help'])));
    helps.forEach((h, i) => {
      expect(h.code, commands[i]!.join(' ')).toBe(0);
      expect(h.out).toContain(`Usage: stint ${commands[i]!.join(' ')}`);
    });
  }, 300_000);

  it('agents, resources, tasks, revoke, audit and policy against a started broker', async () => {
    // An agent key, registered by the operator.
    const keyFile = join(dir, 'agent.json');
    expect((await cli(['keygen', '--out', keyFile])).code).toBe(0);
    const agent = await json(['agents', 'add', '--name', 'cli-bot', '--owner', 'alice', '--key', keyFile, '--templates', 'fix-credentials']);
    expect(agent.client_id).toMatch(/^agt_/);
    expect(JSON.stringify(agent)).not.toContain('"d"');
    expect((await cli(['agents', 'list'])).out).toMatch(new RegExp(`${agent.client_id}\\s+active\\s+cli-bot`));
    expect((await json(['agents', 'list'])).agents.map((a: any) => a.client_id)).toContain(agent.client_id);

    const resource = await json(['resources', 'add', '--name', 'db-api', '--audience', 'https://db.example']);
    expect(resource.client_id).toBeTruthy();
    expect(resource.client_secret).toBeTruthy();
    seen.push(resource.client_secret);

    // The agent opens a task with its key.
    const k = JSON.parse(readFileSync(keyFile, 'utf8'));
    const key = { alg: k.alg, privateKey: (await importJWK(k.private_jwk, k.alg)) as CryptoKey, publicJwk: k.public_jwk, jkt: await calculateJwkThumbprint(k.public_jwk) };
    const client = new AgentClient({ issuer: new URL(stint.broker).origin.replace('127.0.0.1', 'localhost'), brokerUrl: stint.broker, clientId: agent.client_id, key });
    const opened = await client.openTask('fix-credentials', 'staging', 'rotate the staging DB password');
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    seen.push(opened.body.access_token, k.private_jwk.d);

    const listed = await json(['tasks', 'list', '--status', 'active', '--agent', agent.client_id]);
    expect(listed.tasks).toHaveLength(1);
    const taskId = listed.tasks[0].id as string;
    expect((await cli(['tasks', 'list'])).out).toContain(taskId);
    expect((await cli(['tasks', 'show', taskId])).out).toMatch(/purpose:\s+rotate the staging DB password/);
    expect((await json(['tasks', 'revoke', taskId])).status).toBe('revoked');
    expect((await json(['tasks', 'list', '--status', 'active', '--agent', agent.client_id])).tasks).toEqual([]);

    // The event stream: the revocation replayed from the start, then one live event.
    const replay = await cli(['audit', 'tail', '--from', '0', '--count', '1', '--json']);
    expect(replay.code, replay.err).toBe(0);
    expect(JSON.parse(replay.out.trim().split('\n')[0]!).data.task_id ?? replay.out).toBeTruthy();
    const tail = spawn(process.execPath, [join(ROOT, 'bin/stint.mjs'), 'audit', 'tail', '--count', '1'], { env: { ...process.env, STINT_URL: stint.broker, STINT_ADMIN_TOKEN: ADMIN } });
    let tailOut = '';
    tail.stdout.on('data', (d) => (tailOut += d));
    const tailDone = new Promise<number | null>((r) => tail.once('exit', r));
    // Revoke until the follower has seen one (it may connect after the first revocation).
    let exited = false;
    void tailDone.then(() => (exited = true));
    for (let i = 0; i < 50 && !exited; i++) {
      expect((await json(['revoke', '--agent', agent.client_id])).scope).toBe(`agent:${agent.client_id}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await tailDone).toBe(0);
    expect(tailOut).toMatch(new RegExp(agent.client_id));

    expect((await cli(['revoke', '--environment', 'staging'])).out).toMatch(/^revoked env:staging/);
    // --count is exact even when one chunk of the stream carries many events (the log holds a
    // task revocation and at least two scope revocations by now).
    const two = await cli(['audit', 'tail', '--from', '0', '--count', '2', '--json']);
    expect(two.code, two.err).toBe(0);
    expect(two.out.trim().split('\n')).toHaveLength(2);
    expect((await json(['agents', 'release', agent.client_id])).status).toBe('active');
    const shown = await cli(['agents', 'show', agent.client_id]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/status\s+active/);
    const verify = await json(['audit', 'verify']);
    expect(verify.ok).toBe(true);
    expect(verify.count).toBeGreaterThan(3);
    expect((await cli(['audit', 'verify'])).out).toMatch(/^audit log intact/);

    expect((await json(['policy', 'check', join(ROOT, 'policies')])).ok).toBe(true);
  }, 300_000);

  it('fails with a one-line reason and status 2', async () => {
    await failsWith(['tasks', 'list'], /STINT_ADMIN_TOKEN/, { STINT_ADMIN_TOKEN: undefined });
    await failsWith(['tasks', 'list'], /401 unauthorized/, { STINT_ADMIN_TOKEN: 'wrong-token-0123456789' });
    await failsWith(['tasks', 'show', 'task_nosuchtask000000'], /404 not_found/);
    await failsWith(['tasks', 'list', '--url', 'http://127.0.0.1:1'], /cannot reach the broker/);
    await failsWith(['revoke'], /exactly one of/);
    await failsWith(['agents', 'add', '--name', 'x'], /required option/);
    await failsWith(['nope'], /unknown command/);
    await failsWith(['agents', 'show', 'agt_nosuchagent00000'], /404 not_found/);
    // --json: the failure as {error, error_description} on stderr, still exit 2.
    const asJson = await cli(['tasks', 'list', '--json'], { STINT_ADMIN_TOKEN: 'wrong-token-0123456789' });
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.err)).toMatchObject({ error: 'failed', error_description: expect.stringMatching(/401 unauthorized/) });
    const bad = join(dir, 'bad-policies');
    await run('mkdir', ['-p', bad]);
    writeFileSync(join(bad, 'templates.yaml'), 'templates:\n  t:\n    colour: red\n');
    await failsWith(['policy', 'check', bad], /invalid policy/);
  }, 300_000);

  it('both services: ready, metrics behind their bearer, one JSON log line per request without tokens or secrets', async () => {
    const ready = await fetch(`${stint.broker}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks).toMatchObject({ store: 'ok', policy: 'ok', approvals: 'ok' });
    const approvalsReady = await fetch(`${stint.approvals}/readyz`);
    expect(approvalsReady.status).toBe(200);
    expect(((await approvalsReady.json()) as any).checks).toMatchObject({ store: 'ok', policy: 'ok', broker: 'ok' });
    expect((await fetch(`${stint.approvals}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${stint.broker}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(await metrics.text()).toMatch(/stint_tokens_issued_total\{[^}]*kind="task"[^}]*\} 1/);

    const lines = stint
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(10);
    for (const l of requests) expect(l).toMatchObject({ method: expect.any(String), route: expect.any(String), status: expect.any(Number), duration_ms: expect.any(Number), request_id: expect.any(String) });
    expect(new Set(requests.map((l) => l.service))).toEqual(new Set(['broker', 'approvals']));
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const secret of seen) expect(stint.output()).not.toContain(secret);
  });
});
