import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';
import { softPasskey } from './helpers/passkey.js';

// What an outsider can make the console store without any credential — WebAuthn challenges
// from sign-in options — is bounded: the limiter counts the socket's address on Node (not a
// header the client writes), and expired challenges, sessions and enrolment links are purged.
const servers: ServerType[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function served() {
  let handler: (req: Request, env?: unknown) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const server = serve({ fetch: (req, env) => handler(req, env), hostname: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  const s = await testStack({ origin });
  handler = (req, env) => s.approvals.app.fetch(req, env);
  const rows = (table: string) => (s.approvals.sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  return { s, origin, rows };
}

describe('the console’s unauthenticated rows', () => {
  it('a new CF-Connecting-IP per call does not get past the sign-in limit on Node: 10 rows, then 429', async () => {
    const { origin, rows } = await served();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${origin}/console/signin/options`, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json', 'CF-Connecting-IP': `203.0.113.${i}` }, body: '{}' });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((x) => x === 200)).toHaveLength(10);
    expect(statuses.filter((x) => x === 429)).toHaveLength(20);
    expect(rows('webauthn_challenges')).toBe(10);
  });

  it('expired challenges, sessions and enrolment links are purged by maintenance', async () => {
    const { s, origin, rows } = await served();
    const post = (path: string, body: unknown) => s.approvals.app.request(`${APPROVALS}${path}`, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const res = await s.approvals.app.request(`${APPROVALS}/v1/approvers`, { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bob', groups: ['sre'] }) });
    const { approver_id } = (await res.json()) as any;
    const pk = await softPasskey(s.approvals.core, approver_id);
    const options = (await (await post('/console/signin/options', {})).json()) as any;
    expect((await post('/console/signin/verify', { response: pk.assert(options, origin) })).status).toBe(200);
    for (let i = 0; i < 5; i++) await post('/console/signin/options', {});
    await s.approvals.app.request(`${APPROVALS}/v1/approvers/${approver_id}/enrolment`, { method: 'POST', headers: { Authorization: `Bearer ${APPROVAL_ADMIN}` } });
    expect([rows('webauthn_challenges'), rows('approver_sessions'), rows('approver_enrolments')]).toEqual([5, 1, 1]);

    s.clock.advance(301); // challenges expire (5 min)
    await expect.poll(() => rows('webauthn_challenges')).toBe(0);
    expect(rows('approver_sessions')).toBe(1);
    s.clock.advance(25 * 3600); // sessions (8 h) and enrolment links (24 h)
    await expect.poll(() => rows('approver_sessions') + rows('approver_enrolments')).toBe(0);
  });
});
