// The egress proxy alone (no broker, no sandbox): what it refuses by itself, what it hands the
// rules, and that a refusal sends nothing upstream.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallDecision } from '../../src/core/decide.js';
import type { ToolCallFacts } from '../../src/core/tool-call.js';
import { createRunCa } from '../../src/egress/ca.js';
import { normalisePath } from '../../src/egress/inspect.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { fakeProviders, FOUND, REAL } from './helpers.js';

let fake: Awaited<ReturnType<typeof fakeProviders>>;
let port: number;
let proxy: ReturnType<typeof createEgressProxy>;
const asked: ToolCallFacts[] = [];
let answer: (f: ToolCallFacts) => Promise<ToolCallDecision> = async () => ({ decision: true, context: { reason: 'allowed' } });
let live = { live: true } as { live: boolean; reason?: string };
const placeholders = new Placeholders('task_1');
const entry = { name: 'railway-staging', environment: 'staging', hosts: ['backboard.railway.app'], header: 'Authorization', scheme: 'Bearer', value: REAL };
const ph = placeholders.issue(entry);

beforeAll(async () => {
  fake = await fakeProviders();
  proxy = createEgressProxy({
    taskId: 'task_1',
    taskToken: 'not-a-jwt',
    issuer: 'http://127.0.0.1:1',
    ca: await createRunCa(),
    placeholders,
    custody: [entry],
    inspect: ['backboard.railway.app', 'api.staging.example'],
    allow: [],
    graphqlHosts: ['backboard.railway.app'],
    decideMethods: ['DELETE'],
    decide: (f) => (asked.push(f), answer(f)),
    liveness: () => live,
    resolve: new Map(fake.resolve.split(',').map((p) => p.split('=') as [string, string])),
    upstreamCa: readFileSync(fake.caFile, 'utf8'),
    bodyCap: 4096,
  });
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  port = (proxy.server.address() as { port: number }).port;
});
let port3: number;
let ph3: string;
let proxy3: ReturnType<typeof createEgressProxy>;
beforeAll(async () => {
  const p3 = new Placeholders('task_3');
  ph3 = p3.issue(entry);
  proxy3 = createEgressProxy({
    taskId: 'task_3', taskToken: 'x', issuer: 'http://127.0.0.1:1', ca: await createRunCa(), placeholders: p3, custody: [entry], inspect: [], allow: [], graphqlHosts: [], decideMethods: [],
    decide: async () => ({ decision: true, context: { reason: 'allowed' } }), liveness: () => ({ live: true }),
    resolve: new Map(fake.resolve.split(',').map((p) => p.split('=') as [string, string])), upstreamCa: readFileSync(fake.caFile, 'utf8'),
  });
  await new Promise<void>((r) => proxy3.server.listen(0, '127.0.0.1', r));
  port3 = (proxy3.server.address() as { port: number }).port;
});
afterAll(async () => {
  await proxy.close();
  await proxy3.close();
  await fake.close();
});

/** curl through the proxy, trusting the run's CA is not needed: -k (the CA is tested end to end). */
async function curl(args: string[]) {
  const { execFile } = await import('node:child_process');
  return new Promise<{ code: number; out: string }>((resolve) =>
    execFile('curl', ['-sS', '-k', '--proxy', `http://127.0.0.1:${port}`, '-w', '\n%{http_code}', ...args], (_e, stdout, stderr) => resolve({ code: Number(stdout.trim().split('\n').pop()), out: stdout + stderr })),
  );
}

describe('egress proxy', () => {
  it('replaces its placeholder with the value for the entry host, asking the rules about GraphQL', async () => {
    const before = fake.seen.length;
    asked.length = 0;
    const r = await curl(['-X', 'POST', 'https://backboard.railway.app/graphql/v2', '-H', `Authorization: Bearer ${ph}`, '-H', 'Content-Type: application/json', '-d', '{"query":"query { me { id } }"}']);
    expect(r.code, r.out).toBe(200);
    expect(fake.seen.slice(before)[0]!.headers.authorization).toBe(`Bearer ${REAL}`);
    expect(asked[0]).toMatchObject({ tool: 'egress', credentials: [], calls: [{ type: 'http', method: 'POST', host: 'backboard.railway.app', path: '/graphql/v2', graphql: { mutations: [], queries: ['me'] } }] });
  });

  it('hands a foreign credential to the rules as kind + fingerprint, never the value; a refusal is problem+json and sends nothing', async () => {
    const before = fake.seen.length;
    asked.length = 0;
    answer = async () => ({ decision: false, context: { reason: 'new credentials mid-task', rule: 'substitution', stopped: true } });
    const r = await curl(['https://backboard.railway.app/graphql/v2?query=query%7Bme%7Bid%7D%7D', '-H', `Authorization: Bearer ${FOUND}`]);
    expect(r.code).toBe(403);
    const body = JSON.parse(r.out.split('\n')[0]!);
    expect(body).toMatchObject({ status: 403, rule: 'substitution', stopped: true });
    expect(JSON.stringify(asked)).not.toContain(FOUND);
    expect(asked[0]!.credentials[0]).toMatchObject({ kind: 'uuid_token:authorization', position: 'header' });
    expect(fake.seen.length).toBe(before);
    // stopped: the next request is refused without asking
    asked.length = 0;
    answer = async () => ({ decision: true, context: { reason: 'allowed' } });
    const next = await curl(['https://backboard.railway.app/graphql/v2?query=query%7Bme%7Bid%7D%7D', '-H', `Authorization: Bearer ${ph}`]);
    expect(next.out).toMatch(/403/);
    expect(asked).toHaveLength(0);
  });
});

describe('egress proxy, answers', () => {
  it('a custody value the provider echoes back is masked before the sandbox sees it (body and headers)', async () => {
    answer = async () => ({ decision: true, context: { reason: 'allowed' } });
    const { execFile } = await import('node:child_process');
    const r = await new Promise<string>((resolve) => execFile('curl', ['-sS', '-k', '-i', '--proxy', `http://127.0.0.1:${port3}`, 'https://backboard.railway.app/echo', '-H', `Authorization: Bearer ${ph3}`], (_e, out, err) => resolve(out + err)));
    expect(r).toMatch(/200/);
    expect(r).not.toContain(REAL);
    expect(r).toContain('custody value withheld');
  });
});

describe('egress proxy, refusing by itself', () => {
  let p2: ReturnType<typeof createEgressProxy>;
  let port2: number;
  beforeAll(async () => {
    p2 = createEgressProxy({
      taskId: 'task_2', taskToken: 'x', issuer: 'http://127.0.0.1:1', ca: await createRunCa(), placeholders: new Placeholders('task_2'), custody: [], inspect: ['api.staging.example'], allow: [], graphqlHosts: [], decideMethods: ['DELETE'],
      decide: async () => { throw new Error('connection refused'); },
      liveness: () => live,
      resolve: new Map(fake.resolve.split(',').map((p) => p.split('=') as [string, string])),
      upstreamCa: readFileSync(fake.caFile, 'utf8'),
      bodyCap: 1024,
    });
    await new Promise<void>((r) => p2.server.listen(0, '127.0.0.1', r));
    port2 = (p2.server.address() as { port: number }).port;
  });
  afterAll(() => p2.close());
  const via = (args: string[]) => import('node:child_process').then(({ execFile }) => new Promise<{ code: number; out: string }>((resolve) => execFile('curl', ['-sS', '-k', '--proxy', `http://127.0.0.1:${port2}`, '-w', '\n%{http_code}', ...args], (_e, stdout, stderr) => resolve({ code: Number(stdout.trim().split('\n').pop()), out: stdout + stderr }))));

  it('a host neither inspected nor allowed: CONNECT refused 403', async () => {
    const r = await via(['https://example.org/']);
    expect(r.out).toMatch(/403/);
  });

  it('a body above the inspection cap is refused unread', async () => {
    const before = fake.seen.length;
    const r = await via(['-X', 'POST', 'https://api.staging.example/x', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify({ a: 'x'.repeat(5000) })]);
    expect(r.code).toBe(403);
    expect(r.out).toMatch(/inspection_cap/);
    expect(fake.seen.length).toBe(before);
  });

  it('a request that needs a decision while the broker is unreachable is refused', async () => {
    const r = await via(['-X', 'DELETE', 'https://api.staging.example/volumes/1']);
    expect(r.code).toBe(403);
    expect(r.out).toMatch(/broker_unreachable/);
  });

  it('a task that is not live (stream lost, stopped): every request refused', async () => {
    live = { live: false, reason: 'the broker is unreachable (its event stream closed)' };
    try {
      const r = await via(['https://api.staging.example/volumes']);
      expect(r.out).toMatch(/403/);
    } finally {
      live = { live: true };
    }
  });

  it('malformed HTTP answers 400', async () => {
    const text = await new Promise<string>((resolve) => {
      const s = connect(port2, '127.0.0.1', () => s.write('NOT HTTP AT ALL\r\n\r\n'));
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
    });
    expect(text).toMatch(/^HTTP\/1\.1 400/);
  });

  it('an origin-form request (not a proxy request) answers 400', async () => {
    const status = await new Promise<number>((resolve) => httpRequest({ host: '127.0.0.1', port: port2, path: '/x' }, (res) => (res.resume(), resolve(res.statusCode!))).end());
    expect(status).toBe(400);
  });
});

describe('normalised paths', () => {
  it.each([
    ['/volumes/1', '/volumes/1'],
    ['//v1/../%76olumes/./1', '/volumes/1'],
    ['/a/%2F/b', '/a/%2F/b'],
  ])('%s → %s', (a, b) => expect(normalisePath(a)).toBe(b));
});
