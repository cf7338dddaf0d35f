// WebSocket upgrades and HTTP/2 through the egress proxy: never silently broken. At a tunnelled
// host (egress.allow) an upgrade is relayed, over CONNECT or as a plain ws:// request; at a host
// the proxy must read it is refused 403 `upgrade` (problem+json). HTTP/2 clients are offered
// only http/1.1 by ALPN where TLS is terminated, and fall back to it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunCa, type RunCa } from '../../src/egress/ca.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { freePort } from '../helpers/process.js';
import { fakeProviders } from './helpers.js';

let fake: Awaited<ReturnType<typeof fakeProviders>>;
let proxy: ReturnType<typeof createEgressProxy>;
let ca: RunCa;
let port: number;
let wsPlain: number;
let wsTls: number;
const servers: Server[] = [];
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** A WebSocket echo: answers the handshake, then sends back what it gets. */
function echo(server: Server) {
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (d) => socket.write(d));
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  fake = await fakeProviders();
  const upstreamCa = readFileSync(fake.caFile, 'utf8');
  wsPlain = await freePort();
  await new Promise<void>((r) => echo(createHttpServer()).listen(wsPlain, '127.0.0.1', r));
  const upCa = await createRunCa('ws upstream');
  wsTls = await freePort();
  await new Promise<void>((r) => echo(createHttpsServer({ SNICallback: (n, cb) => void upCa.contextFor(n).then((c) => cb(null, c), cb) })).listen(wsTls, '127.0.0.1', r));
  (globalThis as any).upCa = upCa;
  ca = await createRunCa();
  proxy = createEgressProxy({
    taskId: 'task_1', taskToken: 'x', issuer: 'http://127.0.0.1:1', ca, placeholders: new Placeholders('task_1'), custody: [],
    inspect: ['api.staging.example'], allow: ['ws.allowed.example', 'plain.allowed.example'], graphqlHosts: [], decideMethods: [],
    decide: async () => ({ decision: true, context: { reason: 'allowed' } }), liveness: () => ({ live: true }),
    resolve: new Map([
      ['api.staging.example', `127.0.0.1:${fake.ports.rest}`],
      ['ws.allowed.example', `127.0.0.1:${wsTls}`],
      ['plain.allowed.example', `127.0.0.1:${wsPlain}`],
    ]),
    upstreamCa,
  });
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  port = (proxy.server.address() as { port: number }).port;
});
afterAll(async () => {
  await proxy?.close();
  for (const s of servers) s.close();
  await fake?.close();
});

const handshake = (host: string, path = '/socket', absolute = false) =>
  `GET ${absolute ? `http://${host}${path}` : path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** Sends the handshake, then `hello` once switched; resolves with all that came back. */
function talk(socket: Socket | TLSSocket, hs: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let sent = false;
    socket.on('data', (d) => {
      out += d;
      if (!sent && out.includes('\r\n\r\n') && out.startsWith('HTTP/1.1 101')) {
        sent = true;
        socket.write('hello');
      }
      if (out.endsWith('hello') || /"status":\d+\}$/.test(out)) (socket.end(), resolve(out));
    });
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    socket.write(hs);
  });
}

function tunnel(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = request({ host: '127.0.0.1', port, method: 'CONNECT', path: `${host}:443` });
    c.on('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT ${res.statusCode}`))));
    c.on('error', reject);
    c.end();
  });
}

const tls = (socket: Socket, host: string, caPem: string, alpn?: string[]) =>
  new Promise<TLSSocket>((resolve, reject) => {
    const t = tlsConnect({ socket, servername: host, ca: caPem, ...(alpn ? { ALPNProtocols: alpn } : {}) }, () => resolve(t));
    t.on('error', reject);
  });

describe('WebSocket upgrades', () => {
  it('wss:// to a tunnelled host (egress.allow): the handshake and the frames pass end to end', async () => {
    const t = await tls(await tunnel('ws.allowed.example'), 'ws.allowed.example', (globalThis as any).upCa.certPem);
    const out = await talk(t, handshake('ws.allowed.example'));
    expect(out).toMatch(/^HTTP\/1\.1 101/);
    expect(out).toContain(`Sec-WebSocket-Accept: ${ACCEPT}`);
    expect(out.endsWith('hello')).toBe(true);
  });

  it('ws:// to a tunnelled host, sent to the proxy as a plain request: relayed', async () => {
    const s = netConnect(port, '127.0.0.1');
    const out = await talk(s, handshake('plain.allowed.example', '/socket', true));
    expect(out).toMatch(/^HTTP\/1\.1 101/);
    expect(out.endsWith('hello')).toBe(true);
  });

  it('wss:// to a host the proxy reads: refused 403 upgrade (problem+json), never a silent close', async () => {
    const t = await tls(await tunnel('api.staging.example'), 'api.staging.example', ca.certPem);
    const before = fake.seen.length;
    const out = await talk(t, handshake('api.staging.example'));
    expect(out).toMatch(/^HTTP\/1\.1 403/);
    expect(out).toMatch(/Content-Type: application\/problem\+json/);
    expect(out).toMatch(/"rule":"upgrade"/);
    expect(fake.seen.length).toBe(before);
  });

  it('ws:// to a host the proxy reads: refused 403 upgrade; to a host not allowed: 403 egress_not_allowed', async () => {
    const a = await talk(netConnect(port, '127.0.0.1'), handshake('api.staging.example', '/socket', true));
    expect(a).toMatch(/^HTTP\/1\.1 403/);
    expect(a).toMatch(/"rule":"upgrade"/);
    const b = await talk(netConnect(port, '127.0.0.1'), handshake('elsewhere.example', '/socket', true));
    expect(b).toMatch(/^HTTP\/1\.1 403/);
    expect(b).toMatch(/"rule":"egress_not_allowed"/);
  });
});

describe('HTTP/2 over CONNECT', () => {
  it('where TLS is terminated, ALPN offers http/1.1 only: a client offering h2 first gets http/1.1', async () => {
    const t = await tls(await tunnel('api.staging.example'), 'api.staging.example', ca.certPem, ['h2', 'http/1.1']);
    expect(t.alpnProtocol).toBe('http/1.1');
    t.destroy();
  });

  it('curl --http2 through the proxy falls back to HTTP/1.1 and its request is read and sent', async () => {
    const before = fake.seen.length;
    const caFile = join(mkdtempSync(join(tmpdir(), 'stint-h2-')), 'ca.pem');
    writeFileSync(caFile, ca.certPem);
    const out = await new Promise<string>((resolve) =>
      execFile('curl', ['-sS', '--http2', '--cacert', caFile, '--proxy', `http://127.0.0.1:${port}`, '-o', '/dev/null', '-w', '%{http_code} %{http_version}', 'https://api.staging.example/v1/items'], (_e, o, err) => resolve(o + err)),
    );
    expect(out).toBe('200 1.1');
    expect(fake.seen.length).toBe(before + 1);
  });

  it('an HTTP/2 preface sent anyway (prior knowledge) answers 400, not a hang', async () => {
    const t = await tls(await tunnel('api.staging.example'), 'api.staging.example', ca.certPem);
    const out = await new Promise<string>((resolve) => {
      let o = '';
      t.on('data', (d) => (o += d));
      t.on('close', () => resolve(o));
      t.on('end', () => resolve(o));
      t.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    });
    expect(out).toMatch(/^HTTP\/1\.1 400/);
  });
});
