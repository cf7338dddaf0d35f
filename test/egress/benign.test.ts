// 0 false blocks: every call of the benign corpus (GitHub REST and GraphQL reads, Railway
// queries, npm registry fetches; fixtures/benign-calls.json) replayed through the egress proxy,
// decided by a live broker's rules exactly as under `stint run`, reaches the (fake) provider
// with the real custody value in place of the placeholder, and the task stays active.
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportKey } from '../../src/cli/agent.js';
import { createRunCa, type RunCa } from '../../src/egress/ca.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { egressSession, followTask, type Follower } from '../../src/egress/supervisor.js';
import { evaluate } from '../../src/guard/client.js';
import type { TaskState } from '../../src/guard/state.js';
import { generateAgentKey, StintAgent } from '../../src/sdk/agent.js';
import { liveBroker } from '../helpers/live.js';
import { fakeProviders } from './helpers.js';

interface Call {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}
const corpus: Call[] = JSON.parse(readFileSync(new URL('./fixtures/benign-calls.json', import.meta.url), 'utf8')).calls;
const VALUES = { GITHUB_TOKEN: 'gho_realGithubCustodyValue0000000000000000', RAILWAY_TOKEN: 'b7e2c1d0-1111-4e8b-9c1f-realrailway11', NPM_TOKEN: 'npm_realNpmCustodyValue00000000000000000' };

let broker: Awaited<ReturnType<typeof liveBroker>>;
let fake: Awaited<ReturnType<typeof fakeProviders>>;
let proxy: ReturnType<typeof createEgressProxy>;
let follower: Follower;
let ca: RunCa;
let port: number;
let state: TaskState;
const ph: Record<string, string> = {};

beforeAll(async () => {
  broker = await liveBroker();
  fake = await fakeProviders();
  for (const [name, host, value] of [
    ['github-staging', 'api.github.com', VALUES.GITHUB_TOKEN],
    ['railway-staging', 'backboard.railway.app', VALUES.RAILWAY_TOKEN],
    ['npm-staging', 'registry.npmjs.org', VALUES.NPM_TOKEN],
  ] as const) {
    const r = await broker.operator.call('POST', '/v1/custody', { name, environment: 'staging', hosts: [host], value });
    if (r.status !== 201) throw new Error(`custody ${r.status}`);
  }
  const key = await generateAgentKey();
  const reg = await broker.operator.call('POST', '/v1/agents', { name: 'replayer', owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] });
  const agent = new StintAgent({ url: broker.issuer, clientId: reg.body.client_id, key });
  const dpop = await generateAgentKey();
  const task = await agent.openTask({ template: 'fix-credentials', environment: 'staging', purpose: 'review the open pull requests' }, { dpopKey: dpop });
  state = { version: 1, url: broker.issuer, issuer: broker.issuer, client_id: reg.body.client_id, task_id: task.id, template: 'fix-credentials', environment: 'staging', purpose: 'p', task_token: task.taskToken, expires_at: Math.floor(task.expiresAt / 1000), dpop: await exportKey(dpop) };
  const session = await egressSession(state, ['github-staging', 'railway-staging', 'npm-staging']);
  const placeholders = new Placeholders(task.id);
  for (const c of session.custody) ph[c.name] = placeholders.issue(c);
  follower = followTask(state, { onEnd: () => {} });
  ca = await createRunCa();
  const to = `127.0.0.1:${fake.ports.rest}`;
  proxy = createEgressProxy({
    taskId: task.id, taskToken: task.taskToken, issuer: broker.issuer, ca, placeholders, custody: session.custody, inspect: session.inspect, allow: session.allow,
    graphqlHosts: session.graphql, decideMethods: session.methods, decide: (f) => evaluate(state, f, 5000), liveness: () => follower.liveness(),
    resolve: new Map([['api.github.com', to], ['backboard.railway.app', to], ['registry.npmjs.org', to]]), upstreamCa: readFileSync(fake.caFile, 'utf8'),
  });
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  port = (proxy.server.address() as { port: number }).port;
  await follower.ready;
}, 60_000);
afterAll(async () => {
  follower?.close();
  await proxy?.close();
  await fake?.close();
  await broker?.close();
});

/** One call as a client behind HTTPS_PROXY makes it: CONNECT, TLS with the run's CA, the request. */
function replay(c: Call): Promise<{ status: number; body: string }> {
  const u = new URL(c.url);
  const fill = (s: string) => s.replace('{{GITHUB_TOKEN}}', ph['github-staging']!).replace('{{RAILWAY_TOKEN}}', ph['railway-staging']!).replace('{{NPM_TOKEN}}', ph['npm-staging']!);
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, fill(v)]));
  return new Promise((resolve, reject) => {
    const connect = request({ host: '127.0.0.1', port, method: 'CONNECT', path: `${u.hostname}:443` });
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return resolve({ status: res.statusCode!, body: 'CONNECT refused' });
      const tls = tlsConnect({ socket, servername: u.hostname, ca: ca.certPem });
      // http.request over the TLS socket: with createConnection and no agent, the socket is used as is
      const q = request({ host: u.hostname, path: u.pathname + u.search, method: c.method, headers, createConnection: () => tls }, (r: IncomingMessage) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode!, body }));
      });
      q.on('error', reject);
      q.end(c.body);
    });
    connect.on('error', reject);
    connect.end();
  });
}

describe('the benign corpus through the egress proxy', () => {
  it('holds at least 200 calls: GitHub REST and GraphQL reads, Railway queries, npm registry fetches', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const hosts = new Set(corpus.map((c) => new URL(c.url).hostname));
    expect([...hosts].sort()).toEqual(['api.github.com', 'backboard.railway.app', 'registry.npmjs.org']);
    expect(corpus.some((c) => c.url.endsWith('/graphql'))).toBe(true);
  });

  it('0 false blocks: every call is allowed, arrives with the real value, and the task stays active', async () => {
    const blocked: string[] = [];
    const before = fake.seen.length;
    for (const c of corpus) {
      const r = await replay(c);
      if (r.status !== 200) blocked.push(`${c.name}: ${r.status} ${r.body.slice(0, 200)}`);
    }
    expect(blocked).toEqual([]);
    const arrived = fake.seen.slice(before);
    expect(arrived).toHaveLength(corpus.length);
    for (const s of arrived) expect(JSON.stringify(s)).not.toMatch(/stint_ph_/);
    const withCredential = corpus.filter((c) => JSON.stringify(c.headers).includes('{{')).length;
    expect(arrived.filter((s) => Object.values(VALUES).some((v) => JSON.stringify(s.headers).includes(v)))).toHaveLength(withCredential);
    expect((await broker.operator.task(state.task_id)).body.status).toBe('active');
  }, 120_000);
});
