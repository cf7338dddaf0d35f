// Issue 12 finding 12, the smaller ones: htu and assertion aud from the configured issuer only;
// the verifier's publicUrl; a bounded trajectory in approval requests; only task tokens for the
// broker authenticate agents; a parameter sent twice (even empty first); SET receivers (no
// redirects, no private addresses); operator introspection leaves grants unused; a cap on open
// approval requests per task.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isPrivateHost } from '../src/core/private-address.js';
import { boundedTrajectory } from '../src/core/trajectory-summary.js';
import { StintVerifier, stintAuth } from '../src/verify/index.js';
import { assertion, dpopProof } from './helpers/agent.js';
import { ADMIN, ISSUER, TASK_DETAILS, testBroker } from './helpers/broker.js';
import { liveBroker } from './helpers/live.js';
import { testStack } from './helpers/stack.js';

describe('URLs come from the configured issuer, never the Host header', () => {
  it('a DPoP proof naming the Host the client chose is refused (invalid_dpop_proof), and so is an assertion for it (invalid_client)', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const key = await agent.dpopKey();
    const evil = 'http://evil.example/token';
    const send = async (htu: string, aud: string) => {
      const res = await b.app.request(evil, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(key, 'POST', htu, { nowSec: b.nowSec() }) },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          authorization_details: TASK_DETAILS(),
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(agent.key, agent.clientId, aud, { nowSec: b.nowSec() }),
        }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await send(evil, ISSUER)).body.error).toBe('invalid_dpop_proof');
    expect((await send(`${ISSUER}/token`, evil)).body.error).toBe('invalid_client');
    expect((await send(`${ISSUER}/token`, ISSUER)).status).toBe(200);
  });

  it('the verifier checks htu against its publicUrl when it has one', async () => {
    const live = await liveBroker();
    try {
      const audience = 'https://api.staging.example/config';
      const rs = await live.operator.resource('config', audience);
      const verifier = new StintVerifier({ issuer: live.issuer, audience, environment: 'staging', clientId: rs.client_id, clientSecret: rs.client_secret, publicUrl: 'https://api.staging.example' });
      await verifier.start();
      try {
        const app = new Hono().post('/config', stintAuth(verifier, { capability: 'config.write' }), (c) => c.json({ ok: true }));
        const agent = await live.operator.agent('coder', 'alice', ['fix-credentials']);
        const task = await agent.openTask('fix-credentials', 'staging', 'rotate');
        const cap = await agent.exchange(task.body.access_token, 'config.write');
        // The proof names the public URL; the request reached the service under another Host.
        const signed = await agent.request(audience, cap.body.access_token, { method: 'POST' });
        const internal = new Request('http://10.0.0.5:9000/config', { method: 'POST', headers: signed.headers });
        expect((await app.request(internal)).status).toBe(200);
        // A proof naming the Host it was sent to is not for this service.
        const forged = await agent.request('http://10.0.0.5:9000/config', cap.body.access_token, { method: 'POST' });
        const res = await app.request(forged);
        expect(res.status).toBe(401);
        expect(res.headers.get('WWW-Authenticate')).toMatch(/invalid_token/);
      } finally {
        verifier.stop();
      }
    } finally {
      await live.close();
    }
  });
});

describe('agent authentication at the broker', () => {
  it('a capability token (audience: a resource) is not an agent credential at /v1/tasks/:id (401 invalid_token)', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(cap.status).toBe(200);
    const withCap = await agent.call('GET', `/v1/tasks/${task.body.task_id}`, cap.body.access_token);
    expect(withCap.status).toBe(401);
    expect(((await withCap.json()) as any).error).toBe('invalid_token');
    expect((await agent.call('GET', `/v1/tasks/${task.body.task_id}`, task.body.access_token)).status).toBe(200);
  });

  it('a parameter sent twice is refused even when its first copy is empty', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const body = new URLSearchParams({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(agent.key, agent.clientId, ISSUER, { nowSec: b.nowSec() }) });
    body.append('grant_type', '');
    body.append('grant_type', 'client_credentials');
    body.append('authorization_details', TASK_DETAILS());
    const res = await b.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(await agent.dpopKey(), 'POST', `${ISSUER}/token`, { nowSec: b.nowSec() }) }, body });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/grant_type was sent more than once/) });
  });
});

describe('SET receivers', () => {
  it('private and loopback endpoints are refused (400 invalid_request); public ones are registered', async () => {
    const b = await testBroker();
    for (const endpoint of ['http://127.0.0.1:9/x', 'http://169.254.169.254/latest', 'http://10.1.2.3/', 'http://[::1]/', 'http://localhost/x', 'http://192.168.0.2/', 'http://[fd00::1]/']) {
      const res = await b.admin('/v1/receivers', { endpoint });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toBe('invalid_request');
    }
    expect((await b.admin('/v1/receivers', { endpoint: 'https://siem.example/sets' })).status).toBe(201);
    expect(isPrivateHost('https://8.8.8.8/')).toBe(false);
  });

  it('a redirect is not followed, nor retried', async () => {
    const calls: RequestInit[] = [];
    const b = await testBroker({
      setFetch: (async (_url: string, init: RequestInit) => {
        calls.push(init);
        return new Response(null, { status: 302, headers: { Location: 'http://169.254.169.254/' } });
      }) as typeof fetch,
    });
    await b.admin('/v1/receivers', { endpoint: 'https://siem.example/sets' });
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    await b.admin(`/v1/tasks/${task.body.task_id}/revoke`, {});
    await expect.poll(() => calls.length).toBe(1);
    await new Promise((r) => setTimeout(r, 700));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.redirect).toBe('manual');
  });
});

describe('approval requests', () => {
  it('carry a bounded trajectory: a task with 300 grants can still ask', async () => {
    const s = await testStack();
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    for (let i = 0; i < 300; i++) expect((await agent.exchange(t.body.access_token, { scope: 'db.read' })).status).toBe(200);
    const ask = await agent.exchange(t.body.access_token, { scope: 'volume.delete' });
    expect(ask.body.error).toBe('approval_required');
    const bob = await s.approver('bob');
    const [one] = (await bob.call('GET', '/v1/approvals?status=pending')).body.approvals;
    expect(one.task.trajectory.length).toBeLessThanOrEqual(41);
    expect(one.task.trajectory[0].detail).toMatchObject({ type: 'trajectory.summary', omitted: expect.any(Number) });
  }, 60_000);

  it('boundedTrajectory keeps the newest events and counts the rest by kind', () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ at: `t${i}`, kind: i % 2 ? 'grant' : 'denial', detail: { type: 'x', reason: 'r'.repeat(5000) } }));
    const out = boundedTrajectory(events, 10);
    expect(out).toHaveLength(11);
    expect(out[0]!.detail).toMatchObject({ omitted: 40, counts: { grant: 20, denial: 20 } });
    expect(out[10]!.at).toBe('t49');
    expect(String(out[10]!.detail.reason).length).toBeLessThan(400);
  });

  it('a task may hold at most 5 open approval requests (429 too_many_requests)', async () => {
    const s = await testStack();
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    // Five different actions (the same one asked again is answered with its open request).
    const { dpopProof, assertion } = await import('./helpers/agent.js');
    const bc = async (binding_message: string) =>
      s.broker.request('/bc-authorize', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(await agent.dpopKey(), 'POST', 'http://localhost:8787/bc-authorize', { nowSec: s.nowSec() }) },
        body: new URLSearchParams({
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(agent.key, agent.clientId, 'http://localhost:8787', { nowSec: s.nowSec() }),
          subject_token: t.body.access_token,
          scope: 'volume.delete',
          binding_message,
        }),
      });
    for (let i = 0; i < 5; i++) expect((await bc(`volume ${i}`)).status).toBe(200);
    const sixth = await agent.exchange(t.body.access_token, { scope: 'volume.delete' });
    expect(sixth.status).toBe(429);
    expect(sixth.body.error).toBe('too_many_requests');
  });

  it('operator introspection of a grant does not consume it', async () => {
    const s = await testStack();
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    const id = (await agent.exchange(t.body.access_token, { scope: 'volume.delete' })).body.auth_req_id;
    await (await s.approver('bob')).decide(id, 'approve');
    await (await s.approver('carol')).decide(id, 'approve');
    s.clock.advance(6);
    const grant = await agent.token({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: id });
    expect(grant.status).toBe(200);
    const rs = (await (await s.broker.admin('/v1/resources', { name: 'volumes', audience: 'https://api.production.example/volumes' })).json()) as any;
    const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;
    expect((await s.broker.introspect(grant.body.access_token)).active).toBe(true); // operator
    expect((await s.broker.introspect(grant.body.access_token)).active).toBe(true); // still unused
    expect((await s.broker.introspect(grant.body.access_token, basic)).active).toBe(true); // the use
    expect((await s.broker.introspect(grant.body.access_token, basic)).active).toBe(false);
    void ADMIN;
  });
});
