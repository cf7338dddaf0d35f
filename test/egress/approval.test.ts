// Approvals through the egress proxy, as in the guard: a destructive request at an inspected host
// asks for an approval (403 with auth_req_id, nothing sent); once approved, that exact request is
// allowed once; the same request again is blocked again.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunCa, type RunCa } from '../../src/egress/ca.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { evaluate } from '../../src/guard/client.js';
import { guardStack } from '../guard/helpers.js';
import { fakeProviders } from './helpers.js';

let fake: Awaited<ReturnType<typeof fakeProviders>>;
let s: Awaited<ReturnType<typeof guardStack>>;
let proxy: ReturnType<typeof createEgressProxy>;
let ca: RunCa;
let port: number;

beforeAll(async () => {
  fake = await fakeProviders();
  s = await guardStack({ template: 'ops-maintenance', environment: 'production' });
  ca = await createRunCa();
  const fetchBroker = ((url: string, init?: RequestInit) => s.broker.app.request(url, init)) as typeof fetch;
  proxy = createEgressProxy({
    taskId: s.state.task_id,
    taskToken: s.state.task_token,
    issuer: s.state.issuer,
    ca,
    placeholders: new Placeholders(s.state.task_id),
    custody: [],
    inspect: ['api.production.example'],
    allow: [],
    graphqlHosts: [],
    decideMethods: ['DELETE'],
    decide: (f) => evaluate(s.state, f, 5000, fetchBroker, s.nowSec()),
    liveness: () => ({ live: true }),
    resolve: new Map([['api.production.example', `127.0.0.1:${fake.ports.rest}`]]),
    upstreamCa: readFileSync(fake.caFile, 'utf8'),
  });
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  port = (proxy.server.address() as { port: number }).port;
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

/** One request through a CONNECT tunnel, TLS trusted by the run's CA (what curl does inside). */
function through(method: string, path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const c = request({ host: '127.0.0.1', port, method: 'CONNECT', path: 'api.production.example:443' });
    c.on('connect', (_res, socket) => {
      const t = tlsConnect({ socket, servername: 'api.production.example', ca: ca.certPem }, () => {
        t.write(`${method} ${path} HTTP/1.1\r\nHost: api.production.example\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      t.on('data', (d) => (text += d));
      t.on('end', () => {
        const [head, ...rest] = text.split('\r\n\r\n');
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head!)?.[1]);
        const raw = rest.join('\r\n\r\n');
        let body: any;
        try {
          body = JSON.parse(raw.includes('\r\n') ? raw.split('\r\n')[1]! : raw);
        } catch {
          body = raw;
        }
        resolve({ status, body });
      });
      t.on('error', reject);
    });
    c.on('error', reject);
    c.end();
  });
}

describe('an approval through the proxy allows that request once', () => {
  it('DELETE of a volume: approval asked (nothing sent); approved → sent once; the same request again → blocked again', async () => {
    const sent = () => fake.seen.filter((x) => x.method === 'DELETE' && x.path === '/volumes/scratch-tmp').length;
    const first = await through('DELETE', '/volumes/scratch-tmp');
    expect(first.status).toBe(403);
    expect(first.body.rule).toBe('destructive_action');
    expect(first.body.code).toBe('approval_required');
    const id: string = first.body.auth_req_id;
    expect(id).toMatch(/^areq_/);
    expect(sent()).toBe(0);
    for (const who of ['bob', 'carol']) expect((await (await s.approver(who)).decide(id, 'approve')).status).toBe(200);
    s.clock.advance(6);
    const approved = await through('DELETE', '/volumes/scratch-tmp');
    expect(approved.status).toBe(200);
    expect(sent()).toBe(1);
    s.clock.advance(6);
    const again = await through('DELETE', '/volumes/scratch-tmp');
    expect(again.status).toBe(403);
    expect(sent()).toBe(1);
    // an approval of one path is not an approval of a path spelled to reach another
    s.clock.advance(6);
    const trick = await through('DELETE', '/volumes/scratch-tmp/../../backups/all');
    expect(trick.status).toBe(403);
    expect(fake.seen.filter((x) => x.method === 'DELETE')).toHaveLength(1);
    expect((await s.task()).status).toBe('active');
  });
});
