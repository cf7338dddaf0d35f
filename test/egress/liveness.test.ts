// Broker unreachable → refused within 5 s. The follower asks for a heartbeat every second and
// counts the broker gone after 3 s of silence; its clock is frozen here, so the tests say what
// is refused and why, never how fast.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exportKey } from '../../src/cli/agent.js';
import { createRunCa } from '../../src/egress/ca.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { FOLLOW_DEADLINE_MS, followTask, type Follower } from '../../src/egress/supervisor.js';
import type { TaskState } from '../../src/guard/state.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { listen } from '../../src/runtime/node/serve.js';
import { generateAgentKey } from '../../src/sdk/agent.js';
import { defaultPolicy } from '../helpers/policy.js';
import { freePort } from '../helpers/process.js';

/** A broker that opens the stream and then says nothing (hung, or a lost route). */
async function hungBroker(o: { announce?: number | null; ignoreFirst?: boolean } = {}) {
  const asked: string[] = [];
  const streams: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url!.startsWith('/v1/events')) {
      asked.push(req.url!);
      if (o.ignoreFirst && asked.length === 1) return; // accepted, never answered
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const data = o.announce === null ? { head: 0 } : { head: 0, heartbeat_ms: o.announce ?? 1000 };
      res.write(`event: stream.open\ndata: ${JSON.stringify(data)}\n\n`);
      streams.push(res);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'active' }));
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    asked,
    heartbeat: () => streams.forEach((s) => s.write('event: heartbeat\ndata: {}\n\n')),
    /** What a killed broker's kernel does: every connection reset. */
    kill: () => (server.close(), sockets.forEach((s) => s.destroy())),
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

async function taskState(url: string): Promise<TaskState> {
  const dpop = await generateAgentKey();
  return { version: 1, url, issuer: url, client_id: 'agent_1', task_id: 'task_1', template: 't', environment: 'staging', purpose: 'p', task_token: 'tok', expires_at: 0, dpop: await exportKey(dpop) };
}

let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function follow(state: TaskState, now: () => number): Follower {
  const f = followTask(state, { onEnd: () => {}, now, retryMs: 50 });
  cleanup.push(() => f.close());
  return f;
}

describe('the follower: a silent broker counts as gone after the deadline', () => {
  it('asks for a heartbeat every second; live until 3 s of silence, then broker_unreachable; a heartbeat makes it live again', async () => {
    const b = await hungBroker();
    cleanup.push(b.close);
    let t = 1_000_000;
    const f = follow(await taskState(b.url), () => t);
    await f.ready;
    expect(b.asked[0]).toMatch(/[?&]heartbeat_ms=1000(&|$)/);
    expect(f.liveness()).toEqual({ live: true });
    t += FOLLOW_DEADLINE_MS;
    expect(f.liveness().live).toBe(true);
    t += 1;
    expect(f.liveness()).toMatchObject({ live: false, rule: 'broker_unreachable' });
    expect(FOLLOW_DEADLINE_MS).toBeLessThan(5000);
    // The stream is dropped and dialled again; the broker answering makes it live again.
    await expect.poll(() => b.asked.length, { timeout: 10_000 }).toBeGreaterThan(1);
    await expect.poll(() => f.liveness().live, { timeout: 10_000 }).toBe(true);
    t += FOLLOW_DEADLINE_MS - 1;
    b.heartbeat();
    await expect.poll(() => f.liveness().live).toBe(true);
  });

  it("a broker that announces a slower heartbeat (an older one: 5 s) stretches the deadline to 1.5 intervals, so a healthy stream does not flap", async () => {
    const b = await hungBroker({ announce: null });
    cleanup.push(b.close);
    let t = 1_000_000;
    const f = follow(await taskState(b.url), () => t);
    await f.ready;
    t += 7000;
    expect(f.liveness().live).toBe(true);
    t += 501;
    expect(f.liveness()).toMatchObject({ live: false, rule: 'broker_unreachable' });
  });

  it('a dial the broker accepts but never answers is dropped after the deadline and dialled again', async () => {
    const b = await hungBroker({ ignoreFirst: true });
    cleanup.push(b.close);
    let t = 1_000_000;
    const f = follow(await taskState(b.url), () => t);
    await expect.poll(() => b.asked.length).toBe(1);
    expect(f.liveness()).toMatchObject({ live: false, rule: 'broker_unreachable' });
    t += FOLLOW_DEADLINE_MS + 1;
    await expect.poll(() => b.asked.length, { timeout: 10_000 }).toBe(2);
    await f.ready;
    expect(f.liveness().live).toBe(true);
  });

  it('a killed broker (connections reset): not live at once, whatever the clock says', async () => {
    const b = await hungBroker();
    cleanup.push(b.close);
    const t = 1_000_000;
    const f = follow(await taskState(b.url), () => t);
    await f.ready;
    b.kill();
    await expect.poll(() => f.liveness().rule, { timeout: 10_000 }).toBe('broker_unreachable');
  });
});

describe('the proxy: broker unreachable → refused', () => {
  it('the next request after the deadline is refused 403 broker_unreachable (problem+json), nothing forwarded', async () => {
    const b = await hungBroker();
    cleanup.push(b.close);
    let t = 1_000_000;
    const f = follow(await taskState(b.url), () => t);
    await f.ready;
    let upstreamHits = 0;
    const upstream = createServer((_q, r) => (upstreamHits++, r.end('{}')));
    const upPort = await freePort();
    await new Promise<void>((r) => upstream.listen(upPort, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => upstream.close(r)));
    const proxy = createEgressProxy({
      taskId: 'task_1', taskToken: 'tok', issuer: b.url, ca: await createRunCa(), placeholders: new Placeholders('task_1'), custody: [], inspect: [], allow: ['api.example'],
      graphqlHosts: [], decideMethods: [], decide: async () => ({ decision: true, context: { reason: 'allowed' } }), liveness: () => f.liveness(),
      resolve: new Map([['api.example', `127.0.0.1:${upPort}`]]),
    });
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    cleanup.push(() => proxy.close());
    const port = (proxy.server.address() as { port: number }).port;
    const get = () =>
      new Promise<{ status: number; type: string; body: any }>((res, rej) => {
        const q = request({ host: '127.0.0.1', port, path: 'http://api.example/x', headers: { Host: 'api.example' } }, (r) => {
          let text = '';
          r.on('data', (c) => (text += c));
          r.on('end', () => res({ status: r.statusCode!, type: String(r.headers['content-type']), body: text ? JSON.parse(text) : undefined }));
        });
        q.on('error', rej);
        q.end();
      });
    expect((await get()).status).toBe(200);
    expect(upstreamHits).toBe(1);
    t += FOLLOW_DEADLINE_MS + 1;
    const r = await get();
    expect(r.status).toBe(403);
    expect(r.type).toBe('application/problem+json');
    expect(r.body.rule).toBe('broker_unreachable');
    expect(upstreamHits).toBe(1);
  });
});

describe('the broker: ?heartbeat_ms=', () => {
  it('a stream may ask for heartbeats more often than the configured interval (never less often), and stream.open announces the interval', async () => {
    const start = async (heartbeatMs: number) => {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const broker = await createNodeBroker({ dbPath: ':memory:', policy: defaultPolicy(), issuer, adminToken: 'admin-token-0123456789', masterKey: new Uint8Array(32).fill(3), heartbeatMs });
      const server = await listen(broker.app, '127.0.0.1', port);
      cleanup.push(async () => (await server.close(), await broker.close()));
      return issuer;
    };
    const open = (query: string, issuer = slow) =>
      new Promise<any>((res, rej) => {
        const q = request(`${issuer}/v1/events${query}`, { headers: { Authorization: 'Bearer admin-token-0123456789', Accept: 'text/event-stream' } }, (r) => {
          let text = '';
          r.on('data', (c) => {
            text += c;
            const m = /event: stream\.open\ndata: (.*)\n/.exec(text);
            if (m) {
              r.destroy();
              res(JSON.parse(m[1]!));
            }
          });
        });
        q.on('error', rej);
        q.end();
      });
    const slow = await start(5000);
    const fast = await start(200);
    expect((await open('?heartbeat_ms=1000', fast)).heartbeat_ms).toBe(200);
    expect((await open('?heartbeat_ms=1000')).heartbeat_ms).toBe(1000);
    expect((await open('?heartbeat_ms=60000')).heartbeat_ms).toBe(5000);
    expect((await open('?heartbeat_ms=1')).heartbeat_ms).toBe(250);
    expect((await open('')).heartbeat_ms).toBe(5000);
    expect((await open('?heartbeat_ms=abc')).heartbeat_ms).toBe(5000);
  });
});
