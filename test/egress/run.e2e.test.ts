import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKeyFile, egressBroker, fakeProviders, FOUND, REAL, ROOT, stintRun, workspace } from './helpers.js';
import { warmDir } from '../../src/guard/warm.js';

let broker: Awaited<ReturnType<typeof egressBroker>>;
let fake: Awaited<ReturnType<typeof fakeProviders>>;
let keys: string;

beforeAll(async () => {
  broker = await egressBroker();
  fake = await fakeProviders();
  keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
});
afterAll(async () => {
  await fake?.close();
  await broker?.close();
});

async function run(script: string, o: { env?: string[] } = {}) {
  const agent = await agentKeyFile(broker, keys);
  const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
  const ws = workspace();
  const args = ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'rotate the staging DB password', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, ...(o.env ?? ['--env', 'RAILWAY_TOKEN=railway-staging']).flatMap((e) => (e.startsWith('--') ? [e] : [e])), '--', 'sh', '-c', script];
  const before = fake.seen.length;
  const r = await stintRun(args, { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile }, ws);
  return { ...r, seen: fake.seen.slice(before), agent, ws };
}

const GQL = 'https://backboard.railway.app/graphql/v2';

describe('stint run', () => {
  it('a benign query with the placeholder reaches the provider with the real value injected', async () => {
    const r = await run(`curl -sS --fail-with-body -X POST ${GQL} -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/json' -d '{"query":"query { me { id } }"}'`);
    expect(r.stderr).toMatch(/stint run: task /);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]!.headers.authorization).toBe(`Bearer ${REAL}`);
  });

  it('the incident (curl with the found token, volumeDelete) never reaches the provider, and the task is stopped', async () => {
    const r = await run(`curl -sS -X POST ${GQL} -H "Authorization: Bearer ${FOUND}" -H 'Content-Type: application/json' -d '{"query":"mutation { volumeDelete(volumeId: \\"vol_1\\") }"}'; sleep 30`);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/stopped \(substitution\)/);
    expect(r.seen).toHaveLength(0);
  });
});

describe('the sandbox', () => {
  it('holds no custody value, no key and no task file: environment, /proc cmdlines and environs, STINT_HOME, the key file', async () => {
    const script = [
      'echo "PLACEHOLDER=$RAILWAY_TOKEN"',
      'env',
      'for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do tr "\\0" " " < $f 2>/dev/null; echo; done',
      'echo "HOME_FILES=$(ls -A "$STINT_HOME" 2>/dev/null | wc -l)"',
      'echo "KEY_BYTES=$(cat "$AGENT_KEY_FILE" | wc -c)"',
      // the warm guard's directory (src/guard/warm.ts): a socket planted there would answer for hooks outside
      'echo "WARM_FILES=$(ls -A "${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/stint-guard-$(id -u)" 2>/dev/null | wc -l)"',
      'ls -A /run/stint',
      'cat /run/stint/* 2>/dev/null | head -c 100000',
    ].join('\n');
    const agent = await agentKeyFile(broker, keys);
    const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
    const ws = workspace();
    const warm = warmDir(process.env);
    mkdirSync(warm, { recursive: true, mode: 0o700 });
    writeFileSync(join(warm, 'marker'), '');
    const r = await stintRun(
      ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--env', 'RAILWAY_TOKEN=railway-staging', '--', 'sh', '-c', script],
      { STINT_HOME: home, AGENT_KEY_FILE: agent.file, STINT_ADMIN_TOKEN: 'admin-secret-outside', STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile },
      ws,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PLACEHOLDER=stint_ph_[A-Za-z0-9]{32}\n/);
    expect(r.stdout).not.toContain(REAL);
    expect(r.stdout).not.toContain('admin-secret-outside');
    expect(r.stdout).not.toContain('"private_jwk"');
    expect(r.stdout).toContain('HOME_FILES=0');
    expect(r.stdout).toContain('WARM_FILES=0');
    expect(existsSync(join(warm, 'marker'))).toBe(true);
    expect(/^KEY_BYTES=\d+$/m.exec(r.stdout)?.[0]).toBe('KEY_BYTES=0');
    expect(r.stdout).toMatch(/HTTPS_PROXY=http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/SSL_CERT_FILE=\/run\/stint\/ca\.pem/);
  });

  it('a direct connection fails; the placeholder sent straight to the provider is worthless', async () => {
    const before = fake.seen.length;
    const r = await run(`curl -sS --noproxy '*' --max-time 3 -k https://127.0.0.1:${fake.ports.gql}/graphql/v2 -H "Authorization: Bearer $RAILWAY_TOKEN" -d '{}' && echo reached || echo failed; echo "PH=$RAILWAY_TOKEN"`);
    expect(r.stdout).toMatch(/failed/);
    expect(fake.seen.length).toBe(before);
    const ph = /PH=(\S+)/.exec(r.stdout)![1]!;
    expect(ph).not.toBe(REAL);
    // Outside any proxy, it is just a string: what the provider gets is not its credential.
    expect(ph).toMatch(/^stint_ph_/);
  });

  it('a revoked task: the next request is refused and stint run ends the command and exits 3', async () => {
    const agent = await agentKeyFile(broker, keys);
    const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
    const ws = workspace();
    const loop = `while true; do curl -sS -o /dev/null -w '%{http_code}\\n' -X POST ${GQL} -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/json' -d '{"query":"query { me { id } }"}'; sleep 0.1; done`;
    const running = stintRun(['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--env', 'RAILWAY_TOKEN=railway-staging', '--', 'sh', '-c', loop], { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile }, ws);
    const seenBefore = fake.seen.length;
    await expect.poll(() => fake.seen.length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(seenBefore);
    const tasks = await broker.operator.call('GET', `/v1/tasks?agent=${agent.clientId}`);
    const taskId = tasks.body.tasks?.[0]?.id ?? tasks.body.items?.[0]?.id;
    expect(taskId).toBeDefined();
    const revoked = await broker.operator.call('POST', `/v1/tasks/${taskId}/revoke`);
    expect(revoked.status).toBe(200);
    const after = fake.seen.length;
    const r = await running;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/stopped \(task_revoked\)/);
    // at most a request already in flight when the revocation landed
    expect(fake.seen.length - after).toBeLessThanOrEqual(1);
  });
});

describe('stint guard inside stint run', () => {
  it('asks the supervisor over the sandbox socket (no task file inside): a benign call is allowed, the incident stops the task', async () => {
    const guard = `node --import file://${ROOT}node_modules/tsx/dist/loader.mjs ${ROOT}src/cli/main.ts guard --harness claude-code`;
    const event = (command: string) => JSON.stringify({ session_id: 's', transcript_path: '/tmp/t.jsonl', cwd: '/tmp', permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command } });
    const benign = event('ls -la');
    const incident = event(`curl -X POST ${GQL} -H "Authorization: Bearer ${FOUND}" -d '{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}'`);
    const script = `printf '%s' '${benign.replace(/'/g, `'\\''`)}' | ${guard}; echo "BENIGN=$?"\nprintf '%s' '${incident.replace(/'/g, `'\\''`)}' | ${guard}; echo "INCIDENT=$?"\nsleep 20`;
    const r = await run(script);
    expect(r.stdout, r.stderr).toMatch(/BENIGN=0/);
    // The stop ends the command at once (the shell does not live to print INCIDENT=…).
    expect(r.stdout).not.toMatch(/INCIDENT=0/);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/stopped \(substitution\)/);
  });
});
