import { readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAwsSdkProvider } from '../src/adapters/aws/sdk.js';
import { noRootCredential } from '../src/core/providers/aws/provider.js';
import { compilePolicy } from '../src/policy/load.js';
import { testBroker, type TestBroker, type AgentClient } from './helpers/broker.js';
import { fakeAws } from './helpers/fake-aws.js';
import { POLICIES_DIR } from './helpers/policy.js';

// The real AWS SDK over HTTP against a local endpoint speaking the STS and IAM query protocols.

const ROOT = { accessKeyId: 'AKIATESTROOT0000001', secretAccessKey: 'root-secret-do-not-leak-0123456789abcdef' };
const MASTER_B64 = Buffer.alloc(32, 1).toString('base64'); // the test broker's master key
let aws: Awaited<ReturnType<typeof fakeAws>>;
let b: TestBroker;
let agent: AgentClient;
let taskToken: string;
let taskId: string;
const logs: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'stint-aws-'));

// The default policy, with the AWS capability's root credentials taken from the vault.
const policy = () =>
  compilePolicy(
    readdirSync(POLICIES_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => ({ file: f, text: readFileSync(join(POLICIES_DIR, f), 'utf8').replace('      type: aws\n', '      type: aws\n      credentials: aws-root\n      region: eu-west-1\n') })),
  );

beforeAll(async () => {
  for (const m of ['log', 'error', 'warn', 'info'] as const) vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(' ')));
  aws = await fakeAws(ROOT);
  b = await testBroker({ dbPath: join(dir, 'stint.db'), policy: policy(), aws: createAwsSdkProvider({ stsEndpoint: aws.url, iamEndpoint: aws.url }) });
  aws.state.now = () => b.clock.now();
  const stored = await b.admin('/v1/secrets', { name: 'aws-root', value: JSON.stringify({ access_key_id: ROOT.accessKeyId, secret_access_key: ROOT.secretAccessKey }) });
  expect(stored.status).toBe(201);
  agent = await b.registerAgent({ name: 'coder' });
  const t = await agent.openTask();
  taskToken = t.body.access_token;
  taskId = t.body.task_id;
});
afterAll(async () => {
  vi.restoreAllMocks();
  await aws.close();
});

const awsExchange = (extra: Record<string, string> = {}) => agent.exchange(taskToken, { scope: 'aws.s3.read', requested_token_type: 'urn:stint:token-type:aws-sts', ...extra });

describe('AWS STS credentials for a capability', () => {
  it('calls AssumeRole with every parameter the task implies, signed with SigV4 by the vault credentials', async () => {
    const res = await awsExchange();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issued_token_type: 'urn:stint:token-type:aws-sts',
      token_type: 'N_A',
      access_token: res.body.aws.session_token,
      aws: { access_key_id: 'ASIATESTSESSION', secret_access_key: expect.stringMatching(/^session-secret-/), session_token: expect.stringMatching(/^session-token-/), expiration: expect.any(String) },
    });
    expect(res.body.expires_in).toBeGreaterThan(890);
    expect(res.body.expires_in).toBeLessThanOrEqual(900);

    const call = aws.calls.at(-1)!;
    expect(call).toMatchObject({ service: 'sts', signatureValid: true, accessKeyId: ROOT.accessKeyId });
    expect(call.params).toMatchObject({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: 'arn:aws:iam::000000000000:role/stint-demo-reader',
      RoleSessionName: `stint-${taskId}`,
      DurationSeconds: '900',
      SourceIdentity: agent.clientId,
      'Tags.member.1.Key': 'stint-task',
      'Tags.member.1.Value': taskId,
      'Tags.member.2.Key': 'stint-environment',
      'Tags.member.2.Value': 'staging',
      'Tags.member.3.Key': 'stint-agent',
      'Tags.member.3.Value': agent.clientId,
      'TransitiveTagKeys.member.1': 'stint-task',
      'TransitiveTagKeys.member.2': 'stint-environment',
      'TransitiveTagKeys.member.3': 'stint-agent',
    });
    expect(JSON.parse(call.params.Policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::stint-demo-staging/*' }],
    });
    const view = (await (await b.admin(`/v1/tasks/${taskId}`)).json()) as any;
    expect(view.events.at(-1)).toMatchObject({ kind: 'grant', detail: { type: 'aws.session.issued', role: 'arn:aws:iam::000000000000:role/stint-demo-reader' } });
  });

  it('maps an STS refusal to a clear token-endpoint error, and issues nothing', async () => {
    aws.state.failWith = { code: 'AccessDenied', status: 403 };
    const res = await awsExchange();
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_target', error_description: expect.stringMatching(/AWS STS refused AssumeRole .*AccessDenied/) });
    expect(res.body.aws).toBeUndefined();
    expect(res.body.access_token).toBeUndefined();
    aws.state.failWith = { code: 'ServiceUnavailable', status: 503, times: 5 }; // outlasts the SDK's retry
    const down = await awsExchange();
    expect(down.status).toBe(503);
    expect(down.body.error).toBe('temporarily_unavailable');
    aws.state.failWith = undefined;
  });

  it('refuses to mix AWS with other capabilities, and AWS token types for plain capabilities', async () => {
    expect((await agent.exchange(taskToken, { scope: 'aws.s3.read config.read' })).body.error).toMatch(/invalid_request|invalid_target/);
    expect((await agent.exchange(taskToken, { scope: 'config.read', requested_token_type: 'urn:stint:token-type:aws-sts' })).body.error).toBe('invalid_request');
  });

  it('a stopped or revoked task gets an IAM deny on the role, conditioned on its session tag, in stint’s one policy', async () => {
    const before = aws.calls.length;
    await b.admin(`/v1/tasks/${taskId}/revoke`, {});
    await expect.poll(() => aws.calls.slice(before).filter((c) => c.params.Action === 'PutRolePolicy').length).toBe(1);
    const put = aws.calls.slice(before).find((c) => c.params.Action === 'PutRolePolicy')!;
    expect(put.signatureValid).toBe(true);
    expect(put.params).toMatchObject({ Action: 'PutRolePolicy', Version: '2010-05-08', RoleName: 'stint-demo-reader', PolicyName: 'stint-revocations' });
    expect(JSON.parse(put.params.PolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'StintEndedTasks', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/stint-task': [taskId] } } }],
    });
  });

  it('revoking an environment adds a deny for that environment’s sessions issued before it, to the same one policy', async () => {
    b.clock.advance(2);
    const t = await agent.openTask();
    expect((await agent.exchange(t.body.access_token, { scope: 'aws.s3.read' })).status).toBe(200);
    const before = aws.calls.length;
    expect((await b.admin('/v1/revocations', { environment: 'staging' })).status).toBe(200);
    await expect.poll(() => aws.calls.slice(before).filter((c) => c.params.Action === 'PutRolePolicy').length).toBeGreaterThanOrEqual(1);
    const put = aws.calls.slice(before).filter((c) => c.params.Action === 'PutRolePolicy').at(-1)!;
    expect(put.params).toMatchObject({ RoleName: 'stint-demo-reader', PolicyName: 'stint-revocations' });
    const statements = JSON.parse(put.params.PolicyDocument!).Statement;
    expect(statements).toContainEqual({
      Sid: expect.stringMatching(/^StintScope/),
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalTag/stint-environment': 'staging' },
        DateLessThanEquals: { 'aws:TokenIssueTime': new Date(Math.floor(b.clock.now() / 1000) * 1000).toISOString() },
      },
    });
  });

  it('sixty ended tasks later the role still has one policy, and entries older than the longest session are pruned', async () => {
    b.clock.advance(901); // every session so far has expired: nothing left to deny
    let last: Record<string, string> | undefined;
    for (let i = 0; i < 60; i++) {
      const t = await agent.openTask();
      if (t.status !== 200) throw new Error(JSON.stringify(t.body));
      expect((await agent.exchange(t.body.access_token, { scope: 'aws.s3.read' })).status).toBe(200);
      const before = aws.calls.length;
      await b.admin(`/v1/tasks/${t.body.task_id}/revoke`, {});
      await expect.poll(() => aws.calls.slice(before).filter((c) => c.params.Action === 'PutRolePolicy').length).toBe(1);
      last = aws.calls.slice(before).find((c) => c.params.Action === 'PutRolePolicy')!.params;
      b.clock.advance(20);
    }
    expect(new Set(aws.calls.filter((c) => c.service === 'iam' && c.params.PolicyName).map((c) => c.params.PolicyName))).toEqual(new Set(['stint-revocations']));
    const doc = JSON.parse(last!.PolicyDocument!);
    const tasks = doc.Statement.find((s: any) => s.Sid === 'StintEndedTasks').Condition.StringEquals['aws:PrincipalTag/stint-task'];
    // 900 s of sessions at one task every 20 s: at most 46 still need a deny, and none of the first ones.
    expect(tasks.length).toBeLessThanOrEqual(46);
    expect(tasks.length).toBeGreaterThan(1);
    expect(last!.PolicyDocument!.length).toBeLessThan(10_240);
    expect(doc.Statement.some((s: any) => s.Sid?.startsWith('StintScope'))).toBe(false); // the staging revocation aged out
  });

  it('a failed IAM call is an audit event', async () => {
    const t = await agent.openTask();
    expect((await agent.exchange(t.body.access_token, { scope: 'aws.s3.read' })).status).toBe(200);
    aws.state.failIam = { code: 'ServiceFailure', status: 500 };
    await b.admin(`/v1/tasks/${t.body.task_id}/revoke`, {});
    await expect
      .poll(async () => (await (await b.admin('/v1/audit')).text()).includes('"provider.revocation_failed"'))
      .toBe(true);
    aws.state.failIam = undefined;
  });
});

describe('only the configured root credential (issue 18)', () => {
  it('a capability that names no root credential is refused at once, saying so; AWS is never called', async () => {
    // The default policy as shipped: its AWS capability names no vault secret.
    const plain = await testBroker({ aws: createAwsSdkProvider({ stsEndpoint: aws.url, iamEndpoint: aws.url, region: 'eu-west-1' }) });
    const before = aws.calls.length;
    const a = await plain.registerAgent({ name: 'coder' });
    const t = await a.openTask();
    const res = await a.exchange(t.body.access_token, { scope: 'aws.s3.read', requested_token_type: 'urn:stint:token-type:aws-sts' });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(res.body.error_description).toBe(noRootCredential('aws.s3.read'));
    expect(res.body.error_description).toMatch(/never falls back to the AWS SDK's default credential chain/);
    expect(aws.calls.length).toBe(before);
    expect(await (await plain.admin('/v1/audit')).text()).toContain('"no_root_credential"');
  });

  it('the SDK adapter refuses a call without a root credential before any network, whatever the environment holds', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    // Credentials the SDK's default chain would pick up: they must not be used.
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMTHEENVIRONMENT';
    process.env.AWS_SECRET_ACCESS_KEY = 'from-the-environment';
    try {
      const api = createAwsSdkProvider({ stsEndpoint: aws.url, iamEndpoint: aws.url });
      const before = aws.calls.length;
      const input = { roleArn: 'arn:aws:iam::000000000000:role/r', roleSessionName: 's', durationSeconds: 900, sessionPolicy: '{}', tags: [], transitiveTagKeys: [], sourceIdentity: 'a' };
      await expect(api.assumeRole({ ...input, credentials: undefined as never })).rejects.toThrow(/never uses the AWS SDK default credential chain/);
      await expect(api.putRolePolicy({ roleName: 'r', policyName: 'p', policyDocument: '{}', credentials: undefined as never })).rejects.toThrow(/never uses the AWS SDK default credential chain/);
      expect(aws.calls.length).toBe(before);
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});

describe('AWS deny-policy rewrites hold', () => {
  const puts = (from: number) => aws.calls.slice(from).filter((c) => c.params.Action === 'PutRolePolicy');
  const idle = () => (b.core.providers.get('aws') as unknown as { idle(): Promise<void> }).idle();
  const deniedTasks = (doc: string | undefined) => (doc ? JSON.parse(doc).Statement.find((s: any) => s.Sid === 'StintEndedTasks')?.Condition.StringEquals['aws:PrincipalTag/stint-task'] ?? [] : []);

  it('revoke A, then B, with a transient 503 on the first put: IAM ends with both, no put after B leaves B out, the failure is audited', async () => {
    b.clock.advance(901);
    const open = async () => {
      const t = await agent.openTask();
      expect((await agent.exchange(t.body.access_token, { scope: 'aws.s3.read' })).status).toBe(200);
      return t.body.task_id as string;
    };
    const [a, bTask] = [await open(), await open()];
    const before = aws.calls.length;
    let release!: () => void;
    aws.state.holdIam = new Promise<void>((r) => (release = r));
    aws.state.failIam = { code: 'ServiceUnavailable', status: 503, times: 1 };

    await b.admin(`/v1/tasks/${a}/revoke`, {});
    await expect.poll(() => puts(before).length).toBe(1); // A's put, held at IAM
    await b.admin(`/v1/tasks/${bTask}/revoke`, {});
    const afterB = aws.calls.length;
    release();
    await idle();

    expect(deniedTasks(aws.state.roles.get('stint-demo-reader')?.get('stint-revocations'))).toEqual(expect.arrayContaining([a, bTask]));
    // The SDK did not resend A's stale document; every put made after B's revocation names B.
    for (const p of puts(afterB)) expect(deniedTasks(p.params.PolicyDocument)).toContain(bTask);
    const audit = (await (await b.admin('/v1/audit')).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.find((r) => r.type === 'aws.sessions.deny_failed' && r.data.error.startsWith('ServiceUnavailable'))).toMatchObject({ data: { role: 'arn:aws:iam::000000000000:role/stint-demo-reader', attempt: 1 } });
  });

  it('the SDK adapter makes each IAM call once (the provider retries with a fresh document, not the SDK with a stale one)', async () => {
    const sdk = createAwsSdkProvider({ iamEndpoint: aws.url });
    const before = aws.calls.length;
    aws.state.failIam = { code: 'ServiceUnavailable', status: 503, times: 1 };
    await expect(sdk.putRolePolicy({ roleName: 'r', policyName: 'stint-revocations', policyDocument: '{}', credentials: ROOT })).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(puts(before)).toHaveLength(1);
    await sdk.putRolePolicy({ roleName: 'r', policyName: 'stint-revoked-tsk_old', policyDocument: '{"a":1}', credentials: ROOT });
    expect(await sdk.getRolePolicy({ roleName: 'r', policyName: 'stint-revoked-tsk_old', credentials: ROOT })).toBe('{"a":1}');
    expect(await sdk.getRolePolicy({ roleName: 'r', policyName: 'none', credentials: ROOT })).toBeUndefined();
    expect(await sdk.listRolePolicies({ roleName: 'r', credentials: ROOT })).toEqual(['stint-revoked-tsk_old']);
    await sdk.deleteRolePolicy({ roleName: 'r', policyName: 'stint-revoked-tsk_old', credentials: ROOT });
    await sdk.deleteRolePolicy({ roleName: 'r', policyName: 'stint-revoked-tsk_old', credentials: ROOT }); // already gone: no error
    expect(await sdk.listRolePolicies({ roleName: 'r', credentials: ROOT })).toEqual([]);
  });
});

describe('the vault', () => {
  it('is write-only over the API', async () => {
    const list = (await (await b.admin('/v1/secrets')).json()) as any;
    expect(list.secrets.map((s: any) => s.name)).toEqual(['aws-root']);
    expect(JSON.stringify(list)).not.toContain(ROOT.secretAccessKey);
    expect((await b.admin('/v1/secrets/aws-root')).status).toBe(404);
  });

  it('keeps no stored secret or master key in the database file or the logs', async () => {
    await b.sqlite.pragma('wal_checkpoint(FULL)');
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    for (const needle of [ROOT.secretAccessKey, ROOT.accessKeyId, MASTER_B64, 'session-secret-']) {
      expect(files.includes(needle), needle).toBe(false);
      expect(logs.join('\n').includes(needle), needle).toBe(false);
    }
    expect(files).toContain('aws-root');
  });

  it('refuses malformed secrets without echoing them', async () => {
    const res = await b.admin('/v1/secrets', { name: 'Bad Name', value: 'hunter2-super-secret' });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('hunter2');
  });
});

describe('credential_process', () => {
  it('prints task-bound AWS credentials in the AWS CLI’s format', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { writeFileSync } = await import('node:fs');
    const { liveBroker } = await import('./helpers/live.js');
    const { AgentClient } = await import('../src/client/agent.js');
    const { ROOT: REPO } = await import('./helpers/process.js');
    const run = promisify(execFile);
    const live = await liveBroker({ aws: createAwsSdkProvider({ stsEndpoint: aws.url, iamEndpoint: aws.url }), policy: policy() });
    try {
      await live.operator.call('POST', '/v1/secrets', { name: 'aws-root', value: JSON.stringify({ access_key_id: ROOT.accessKeyId, secret_access_key: ROOT.secretAccessKey }) });
      const cli = (...args: string[]) => run(process.execPath, [join(REPO, 'bin/stint.mjs'), ...args], { cwd: dir });
      await cli('keygen', '--out', join(dir, 'agent.json'));
      await cli('keygen', '--out', join(dir, 'dpop.json'));
      const agentKey = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));
      const reg = await live.operator.call('POST', '/v1/agents', { name: 'cli-agent', owner: 'alice', jwks: { keys: [agentKey.public_jwk] }, templates: ['fix-credentials'] });
      const { importJWK, calculateJwkThumbprint } = await import('jose');
      const load = async (f: string) => {
        const k = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        return { alg: k.alg, privateKey: (await importJWK(k.private_jwk, k.alg)) as CryptoKey, publicJwk: k.public_jwk, jkt: await calculateJwkThumbprint(k.public_jwk) };
      };
      const client = new AgentClient({ issuer: live.issuer, clientId: reg.body.client_id, key: await load('agent.json'), dpopKey: await load('dpop.json') });
      const task = await client.openTask('fix-credentials', 'staging', 'read the demo bucket');
      writeFileSync(join(dir, 'task-token'), task.body.access_token);
      const { stdout } = await cli('aws', 'credential-process', '--capability', 'aws.s3.read', '--client-id', reg.body.client_id, '--key', join(dir, 'agent.json'), '--dpop-key', join(dir, 'dpop.json'), '--task-token-file', join(dir, 'task-token'), '--url', live.issuer);
      expect(JSON.parse(stdout)).toEqual({ Version: 1, AccessKeyId: 'ASIATESTSESSION', SecretAccessKey: expect.stringMatching(/^session-secret-/), SessionToken: expect.stringMatching(/^session-token-/), Expiration: expect.any(String) });
    } finally {
      await live.close();
    }
  });
});
