// `npm run bench:egress`: what stint run's egress proxy costs and how fast it refuses.
//  1. overhead: 4 KB JSON POSTs at a fixed rate (RATE, default 200 req/s) for SECONDS (default 5),
//     straight to a local upstream and through the proxy (placeholder replaced, body read and
//     scanned, no broker round trip), same run; p50/p99 and what the proxy adds.
//  2. GraphQL queries through the proxy (each decided by the broker's rules over AuthZEN).
//  3. revocation: task revoked → the next proxied request refused; RUNS (default 100) runs.
//  4. broker gone → the first refused request, once with the broker closed (its connections
//     end at once) and once with it silent (a relay in front of it stops passing bytes, as a hung
//     process or a lost route would: only the 3 s heartbeat deadline can tell).
//  5. the benign corpus (test/egress/fixtures/benign-calls.json: 230 GitHub REST/GraphQL reads,
//     Railway queries, npm registry fetches) replayed against a local fake: how many the proxy
//     refused (false blocks; test/egress/benign.test.ts holds it at 0).
// Rows 1 and 2 go over plain HTTP (inspection + decision cost alone); the HTTPS rows go the way
// real clients do (CONNECT, TLS terminated with the run's CA, TLS again to the upstream), with
// connections kept alive on both sides, as clients and the proxy's own agent keep them.
import { readFileSync } from 'node:fs';
import { createServer, request, Agent, type ClientRequestArgs, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { listen } from '../../src/runtime/node/serve.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { OperatorClient } from '../../src/client/operator.js';
import { generateAgentKey, StintAgent } from '../../src/sdk/agent.js';
import { exportKey } from '../../src/cli/agent.js';
import type { TaskState } from '../../src/guard/state.js';
import { evaluate } from '../../src/guard/client.js';
import { createRunCa } from '../../src/egress/ca.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { egressSession, followTask } from '../../src/egress/supervisor.js';

const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 5);
const RUNS = Number(process.env.RUNS ?? 100);
const log = (m: string) => console.error(`bench:egress: ${m}`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const upstreamPort = await freePort();
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"data":{"ok":true}}');
  });
});
await new Promise<void>((r) => upstream.listen(upstreamPort, '127.0.0.1', r));
// The same upstream over TLS (its own CA), for the row that goes the way real clients do:
// CONNECT, TLS terminated with the run's CA, the request read, TLS again to the upstream.
const upCa = await createRunCa('bench upstream');
const tlsPort = await freePort();
const tlsUpstream = createHttpsServer({ SNICallback: (name, cb) => void upCa.contextFor(name).then((c) => cb(null, c), cb) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"data":{"ok":true}}');
  });
});
await new Promise<void>((r) => tlsUpstream.listen(tlsPort, '127.0.0.1', r));

const ADMIN = `bench-${crypto.randomUUID()}`;
async function startBroker() {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const policy = loadPolicyDir(new URL('../../policies', import.meta.url).pathname);
  policy.egress = { allow: [], inspect: ['api.github.com', 'registry.npmjs.org'] };
  const broker = await createNodeBroker({ dbPath: ':memory:', policy, issuer, adminToken: ADMIN, masterKey: new Uint8Array(32).fill(7), heartbeatMs: 1000, rateLimit: false });
  const server = await listen(broker.app, '127.0.0.1', port);
  return { issuer, broker, server, operator: new OperatorClient(issuer, ADMIN) };
}
const b = await startBroker();
await b.operator.call('POST', '/v1/custody', { name: 'rest-staging', environment: 'staging', hosts: ['api.staging.example'], value: 'real-rest-value-0123456789' });
await b.operator.call('POST', '/v1/custody', { name: 'railway-staging', environment: 'staging', hosts: ['backboard.railway.app'], header: 'Authorization', scheme: 'Bearer', value: 'real-railway-value-0123456789' });
await b.operator.call('POST', '/v1/custody', { name: 'github-staging', environment: 'staging', hosts: ['api.github.com'], value: 'gho_realGithubCustodyValue0000000000000000' });
await b.operator.call('POST', '/v1/custody', { name: 'rest-tls', environment: 'staging', hosts: ['secure.staging.example'], value: 'real-tls-value-0123456789' });
await b.operator.call('POST', '/v1/custody', { name: 'npm-staging', environment: 'staging', hosts: ['registry.npmjs.org'], value: 'npm_realNpmCustodyValue00000000000000000' });
const ca = await createRunCa();
const resolve = new Map(['api.staging.example', 'backboard.railway.app', 'api.github.com', 'registry.npmjs.org'].map((h) => [h, `127.0.0.1:${upstreamPort}`]));
resolve.set('secure.staging.example', `127.0.0.1:${tlsPort}`);

async function supervised(broker: typeof b, url = broker.issuer) {
  const key = await generateAgentKey();
  const reg = await broker.operator.call('POST', '/v1/agents', { name: `bench-${crypto.randomUUID().slice(0, 8)}`, owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] });
  const agent = new StintAgent({ url: broker.issuer, clientId: reg.body.client_id, key });
  const dpop = await generateAgentKey();
  const task = await agent.openTask({ template: 'fix-credentials', environment: 'staging', purpose: 'bench' }, { dpopKey: dpop });
  const state: TaskState = { version: 1, url, issuer: broker.issuer, client_id: reg.body.client_id, task_id: task.id, template: 'fix-credentials', environment: 'staging', purpose: 'bench', task_token: task.taskToken, expires_at: Math.floor(task.expiresAt / 1000), dpop: await exportKey(dpop) };
  const names = ['rest-staging', 'railway-staging', 'github-staging', 'npm-staging', 'rest-tls'].filter((n) => broker === b || n === 'rest-staging' || n === 'railway-staging');
  const session = await egressSession(state, names);
  const placeholders = new Placeholders(task.id);
  const ph = (n: string) => {
    const e = session.custody.find((c) => c.name === n);
    return e ? placeholders.issue(e) : '';
  };
  const rest = ph('rest-staging');
  const railway = ph('railway-staging');
  const github = ph('github-staging');
  const npm = ph('npm-staging');
  const restTls = ph('rest-tls');
  const follower = followTask(state, { onEnd: () => {} });
  const proxy = createEgressProxy({
    taskId: task.id, taskToken: task.taskToken, issuer: broker.issuer, ca, placeholders, custody: session.custody, inspect: session.inspect, allow: session.allow,
    graphqlHosts: session.graphql, decideMethods: session.methods, decide: (f) => evaluate(state, f, 5000), liveness: () => follower.liveness(), resolve, upstreamCa: upCa.certPem,
  });
  const port = await freePort();
  await new Promise<void>((r) => proxy.server.listen(port, '127.0.0.1', r));
  await follower.ready;
  return { state, port, rest, railway, github, npm, restTls, follower, proxy, close: async () => (follower.close(), await proxy.close()) };
}

const agentKeepAlive = new Agent({ keepAlive: true, maxSockets: 16 });

/** What an HTTPS client behind HTTPS_PROXY keeps open: CONNECT tunnels with TLS inside, reused. */
class TunnelAgent extends Agent {
  constructor(private proxyPort: number, private caPem: string) {
    super({ keepAlive: true, maxSockets: 16 });
  }
  // Node's Agent takes the socket from the callback when createConnection returns nothing.
  override createConnection(o: ClientRequestArgs, cb?: (e: Error | null, s: Duplex) => void): Duplex | null | undefined {
    const done = (e: Error | null, sock?: Duplex) => cb?.(e, sock as Duplex);
    const c = request({ host: '127.0.0.1', port: this.proxyPort, method: 'CONNECT', path: `${o.host}:${o.port}`, agent: false });
    c.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return done(new Error(`CONNECT ${res.statusCode}`));
      const t = tlsConnect({ socket, servername: o.host ?? undefined, ca: this.caPem }, () => done(null, t));
      t.on('error', (e) => done(e));
    });
    c.on('error', (e) => done(e));
    c.end();
    return undefined;
  }
}
const httpsKeepAlive = new HttpsAgent({ keepAlive: true, maxSockets: 16, ca: upCa.certPem });
function sendTls(via: { agent: Agent; host: string; port: number; servername?: string }, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const mod = via.agent instanceof HttpsAgent ? httpsRequest : request;
    const req = mod({ host: via.host, port: via.port, servername: via.servername, path, method: 'POST', agent: via.agent, headers: { Host: 'secure.staging.example', 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers } }, (r: IncomingMessage) => {
      r.resume();
      r.on('end', () => res({ status: r.statusCode!, ms: performance.now() - t0 }));
    });
    req.on('error', rej);
    req.end(body);
  });
}
function send(port: number, path: string, body: string | undefined, headers: Record<string, string>, method = body ? 'POST' : 'GET'): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: agentKeepAlive, headers: { ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (r: IncomingMessage) => {
      let text = '';
      r.on('data', (c) => (text += c));
      r.on('end', () => res({ status: r.statusCode!, ms: performance.now() - t0, body: text }));
    });
    req.on('error', rej);
    req.end(body);
  });
}

async function paced(n: number, f: () => Promise<{ status: number; ms: number }>) {
  const lat: number[] = [];
  let bad = 0;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(f().then((r) => void (r.status === 200 ? lat.push(r.ms) : bad++), () => void bad++));
  }
  await Promise.all(inflight);
  return { p50: pct(lat, 50), p99: pct(lat, 99), ok: lat.length, bad };
}

const rows: string[][] = [];
const fmt = (x: number) => x.toFixed(2);
const s = await supervised(b);
const doc = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: `item-${i}`, name: `name ${i}`, value: 'x'.repeat(60) })) }).slice(0, 4096);
const body = doc.length < 4096 ? doc + ' '.repeat(4096 - doc.length) : doc;
const n = RATE * SECONDS;
log(`warm-up, then ${n} requests of 4 KB at ${RATE} req/s, direct and through the proxy`);
await paced(Math.min(200, n), () => send(s.port, 'http://api.staging.example/v1/items', body, { 'X-Api-Key': s.rest }));
await paced(Math.min(200, n), () => send(upstreamPort, '/v1/items', body, { 'X-Api-Key': 'real-rest-value-0123456789' }));
const direct = await paced(n, () => send(upstreamPort, '/v1/items', body, { 'X-Api-Key': 'real-rest-value-0123456789' }));
const proxied = await paced(n, () => send(s.port, 'http://api.staging.example/v1/items', body, { 'X-Api-Key': s.rest }));
rows.push(['4 KB JSON POST, direct', `${RATE}/s`, fmt(direct.p50), fmt(direct.p99), '', `${direct.ok} ok, ${direct.bad} not`]);
rows.push(['4 KB JSON POST, through the proxy (placeholder replaced)', `${RATE}/s`, fmt(proxied.p50), fmt(proxied.p99), `+${fmt(proxied.p50 - direct.p50)} / +${fmt(proxied.p99 - direct.p99)}`, `${proxied.ok} ok, ${proxied.bad} not`]);
// Over TLS, as real clients go: direct (keep-alive) and through CONNECT (tunnels kept open).
const tunnels = new TunnelAgent(s.port, ca.certPem);
const directTls = { agent: httpsKeepAlive, host: '127.0.0.1', port: tlsPort, servername: 'secure.staging.example' };
const proxiedTls = { agent: tunnels, host: 'secure.staging.example', port: 443 };
await paced(Math.min(200, n), () => sendTls(proxiedTls, '/v1/items', body, { 'X-Api-Key': s.restTls }));
await paced(Math.min(200, n), () => sendTls(directTls, '/v1/items', body, { 'X-Api-Key': 'real-tls-value-0123456789' }));
const dTls = await paced(n, () => sendTls(directTls, '/v1/items', body, { 'X-Api-Key': 'real-tls-value-0123456789' }));
const pTls = await paced(n, () => sendTls(proxiedTls, '/v1/items', body, { 'X-Api-Key': s.restTls }));
rows.push(['4 KB JSON POST over HTTPS, direct (keep-alive)', `${RATE}/s`, fmt(dTls.p50), fmt(dTls.p99), '', `${dTls.ok} ok, ${dTls.bad} not`]);
rows.push(['4 KB JSON POST over HTTPS through CONNECT (TLS terminated and re-originated)', `${RATE}/s`, fmt(pTls.p50), fmt(pTls.p99), `+${fmt(pTls.p50 - dTls.p50)} / +${fmt(pTls.p99 - dTls.p99)}`, `${pTls.ok} ok, ${pTls.bad} not`]);
tunnels.destroy();
httpsKeepAlive.destroy();
const gqlN = Math.min(n, RATE * 2);
const gql = await paced(gqlN, () => send(s.port, 'http://backboard.railway.app/graphql/v2', JSON.stringify({ query: 'query { me { id projects { edges { node { id name } } } } }' }), { Authorization: `Bearer ${s.railway}` }));
rows.push(['GraphQL query through the proxy (decided by the broker)', `${RATE}/s`, fmt(gql.p50), fmt(gql.p99), `+${fmt(gql.p50 - direct.p50)} / +${fmt(gql.p99 - direct.p99)}`, `${gql.ok} ok, ${gql.bad} not`]);

// The benign corpus replayed: false blocks. (Over plain http:// here: the proxy reads it the same.)
const corpus: { name: string; method: string; url: string; headers: Record<string, string>; body?: string }[] = JSON.parse(readFileSync(new URL('../../test/egress/fixtures/benign-calls.json', import.meta.url), 'utf8')).calls;
const fill = (v: string) => v.replace('{{GITHUB_TOKEN}}', s.github).replace('{{RAILWAY_TOKEN}}', s.railway).replace('{{NPM_TOKEN}}', s.npm);
let falseBlocks = 0;
const why: string[] = [];
for (const c of corpus) {
  const url = c.url.replace(/^https:/, 'http:');
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, fill(v)]));
  const r = await send(s.port, url, c.body, headers, c.method);
  if (r.status !== 200) {
    falseBlocks++;
    if (why.length < 3) why.push(`${c.name} → ${r.status} ${r.body.slice(0, 120)}`);
  }
}
rows.push([`benign corpus replayed (GitHub REST/GraphQL, Railway, npm registry)`, '', '', '', '', `${corpus.length - falseBlocks}/${corpus.length} allowed, ${falseBlocks} false blocks`]);
for (const w of why) log(`false block: ${w}`);
await s.close();

// Revocation: the next proxied request after the revoke is refused.
log(`revocation, ${RUNS} runs`);
const rev: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = await supervised(b);
  const ok = await send(t.port, 'http://api.staging.example/v1/items', undefined, { 'X-Api-Key': t.rest });
  if (ok.status !== 200) throw new Error(`warm request refused: ${ok.body}`);
  const t0 = performance.now();
  await b.operator.call('POST', `/v1/tasks/${t.state.task_id}/revoke`);
  for (;;) {
    const r = await send(t.port, 'http://api.staging.example/v1/items', undefined, { 'X-Api-Key': t.rest });
    if (r.status === 403) break;
  }
  rev.push(performance.now() - t0);
  await t.close();
}
rows.push([`task revoked → next proxied request refused (from the revoke call, ${RUNS} runs)`, '', fmt(pct(rev, 50)), fmt(pct(rev, 99)), '', '']);

// Broker gone: closed (connections end), and silent (a relay in front of it freezes).
async function firstRefusal(port: number, rest: string, from: number) {
  for (let i = 0; i < 10_000; i++) {
    const r = await send(port, 'http://api.staging.example/v1/items', undefined, { 'X-Api-Key': rest }).catch(() => ({ status: 0 }) as const);
    if (r.status === 403) return performance.now() - from;
    await sleep(5);
  }
  return NaN;
}
async function custodyOf(x: typeof b) {
  await x.operator.call('POST', '/v1/custody', { name: 'rest-staging', environment: 'staging', hosts: ['api.staging.example'], value: 'real-rest-value-0123456789' });
  await x.operator.call('POST', '/v1/custody', { name: 'railway-staging', environment: 'staging', hosts: ['backboard.railway.app'], value: 'real-railway-value-0123456789' });
}
const b2 = await startBroker();
await custodyOf(b2);
const t2 = await supervised(b2);
const tk = performance.now();
void b2.server.close();
b2.broker.close();
const gone = await firstRefusal(t2.port, t2.rest, tk);
await t2.close();
rows.push(['broker stopped → first refused request', '', fmt(gone), '', '', gone <= 5000 ? 'within 5 s' : 'NOT within 5 s']);

const b3 = await startBroker();
await custodyOf(b3);
const relayPort = await freePort();
let frozen = false;
const pairs: [Socket, Socket][] = [];
const relay = createNetServer((c) => {
  if (frozen) return; // accepted, never answered
  const u = netConnect(Number(new URL(b3.issuer).port), '127.0.0.1');
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  pairs.push([c, u]);
});
await new Promise<void>((r) => relay.listen(relayPort, '127.0.0.1', r));
const t3 = await supervised(b3, `http://127.0.0.1:${relayPort}`);
const ts = performance.now();
frozen = true;
for (const [c, u] of pairs) {
  c.unpipe(u);
  u.unpipe(c);
  c.pause();
  u.pause();
}
const silent = await firstRefusal(t3.port, t3.rest, ts);
await t3.close();
for (const [c, u] of pairs) (c.destroy(), u.destroy());
relay.close();
rows.push(['broker silent (hung; connections kept) → first refused request', '', fmt(silent), '', '', silent <= 5000 ? 'within 5 s' : 'NOT within 5 s']);
await b3.server.close();
await b3.broker.close();

const head = ['measurement', 'rate', 'p50 ms', 'p99 ms', 'added p50 / p99 ms', 'notes'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (r: string[]) => `| ${r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join(' | ')} |`;
console.log([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
await b.server.close();
await b.broker.close();
upstream.close();
tlsUpstream.close();
process.exit(0);
