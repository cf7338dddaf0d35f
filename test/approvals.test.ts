import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { dpopProof, newKey } from './helpers/agent.js';
import type { AgentClient } from './helpers/broker.js';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';

type Stack = Awaited<ReturnType<typeof testStack>>;
let s: Stack;
let agent: AgentClient;
let taskToken: string;
let taskId: string;
beforeEach(async () => {
  s = await testStack();
  agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
  const t = await agent.openTask('ops-maintenance', 'production');
  taskToken = t.body.access_token;
  taskId = t.body.task_id;
});

const CIBA = 'urn:openid:params:grant-type:ciba';
const poll = (id: string, o?: Parameters<AgentClient['token']>[1]) => agent.token({ grant_type: CIBA, auth_req_id: id }, o);
const ask = async (scope = 'volume.delete') => {
  const res = await agent.exchange(taskToken, { scope });
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('approval_required');
  return res.body.auth_req_id as string;
};

describe('a destructive capability asks for approval', () => {
  it('answers approval_required with auth_req_id, expires_in and interval; polling is pending, too fast is slow_down', async () => {
    const res = await agent.exchange(taskToken, { scope: 'volume.delete' });
    expect(res.body).toMatchObject({ error: 'approval_required', auth_req_id: expect.stringMatching(/^areq_/), expires_in: 600, interval: 5 });
    const id = res.body.auth_req_id;
    expect((await poll(id)).body.error).toBe('authorization_pending');
    expect((await poll(id)).body.error).toBe('slow_down');
    s.clock.advance(11);
    expect((await poll(id)).body.error).toBe('authorization_pending');
  });

  it('shows approvers the purpose, trajectory, exact action, environment, agent and owner', async () => {
    await agent.exchange(taskToken, { scope: 'db.read' });
    const id = await ask();
    const sre = await s.approver('bob');
    const list = await sre.call('GET', '/v1/approvals?status=pending');
    expect(list.status).toBe(200);
    expect(list.body.approvals).toHaveLength(1);
    const one = list.body.approvals[0];
    expect(one).toMatchObject({
      id,
      status: 'pending',
      digest: expect.any(String),
      action: { capability: 'volume.delete', resource: 'https://api.production.example/volumes', environment: 'production' },
      task: { id: taskId, template: 'ops-maintenance', purpose: 'rotate the staging DB password' },
      agent: { client_id: agent.clientId, name: 'ops-bot', owner: 'alice' },
      rule: { quorum: 2, groups: ['sre'], allow_owner: false },
    });
    // The snapshot is the trajectory up to the request.
    expect(one.task.trajectory.map((e: any) => e.detail.type)).toEqual(['task.opened', 'capability.issued']);
  });
});

describe('quorum and grant', () => {
  it('mints one 60 s grant signed by the approval authority once two sre approvers approve', async () => {
    const id = await ask();
    const [bob, carol] = [await s.approver('bob'), await s.approver('carol')];
    expect((await bob.decide(id, 'approve')).body.status).toBe('pending');
    expect((await poll(id)).body.error).toBe('authorization_pending');
    expect((await carol.decide(id, 'approve')).body.status).toBe('approved');
    s.clock.advance(6);
    const grant = await poll(id);
    expect(grant.status).toBe(200);
    expect(grant.body).toMatchObject({ token_type: 'DPoP', expires_in: 60, scope: 'volume.delete' });
    const header = decodeProtectedHeader(grant.body.access_token);
    const jwks = (await (await s.approvals.app.request(`${APPROVALS}/.well-known/jwks.json`)).json()) as any;
    expect(header.kid).toBe(jwks.keys[0].kid);
    expect(header.kid).toMatch(/^approval\./);
    expect(s.broker.core.keys.publicKey(header.kid!)).toBeUndefined();
    const c = decodeJwt(grant.body.access_token);
    expect(c).toMatchObject({ token_use: 'grant', aud: 'https://api.production.example/volumes', sub: agent.clientId, task_id: taskId, env: 'production', scope: 'volume.delete', cnf: { jkt: (await agent.dpopKey()).jkt } });
    expect(c.exp! - c.iat!).toBe(60);
    // Delivered once.
    s.clock.advance(6);
    expect((await poll(id)).body.error).toBe('invalid_grant');
  });

  it('refuses the owner’s approval and an outsider’s', async () => {
    const id = await ask();
    const owner = await s.approver('alice');
    const outsider = await s.approver('dave', ['dev']);
    const o = await owner.decide(id, 'approve');
    expect(o.status).toBe(403);
    expect(o.body.detail).toMatch(/owns the requesting agent/);
    expect((await outsider.decide(id, 'approve')).status).toBe(403);
    const bob = await s.approver('bob');
    expect((await bob.decide(id, 'approve')).body.status).toBe('pending');
  });

  it('refuses a replayed decision and a decision moved to another request', async () => {
    const id = await ask();
    const bob = await s.approver('bob');
    const { body } = await bob.call('GET', `/v1/approvals/${id}`);
    const jws = await bob.decisionJws(id, 'approve', body.digest);
    expect((await bob.call('POST', `/v1/approvals/${id}/decision`, { decision_jws: jws })).status).toBe(200);
    const replay = await bob.call('POST', `/v1/approvals/${id}/decision`, { decision_jws: jws });
    expect(replay.status).toBe(409);

    s.clock.advance(6);
    const other = await ask('backup.delete');
    const moved = await bob.call('POST', `/v1/approvals/${other}/decision`, { decision_jws: await bob.decisionJws(id, 'approve', body.digest) });
    expect(moved.status).toBe(400);
    const wrongDigest = await bob.call('POST', `/v1/approvals/${other}/decision`, { decision_jws: await bob.decisionJws(other, 'approve', body.digest) });
    expect(wrongDigest.status).toBe(400);
    expect(wrongDigest.body.detail).toMatch(/digest/);
  });

  it('a denial ends the request', async () => {
    const id = await ask();
    const bob = await s.approver('bob');
    expect((await bob.decide(id, 'deny')).body.status).toBe('denied');
    const carol = await s.approver('carol');
    expect((await carol.decide(id, 'approve')).status).toBe(409);
    expect((await poll(id)).body.error).toBe('access_denied');
  });

  it('an unanswered request expires', async () => {
    const id = await ask();
    s.clock.advance(601);
    expect((await poll(id)).body.error).toBe('expired_token');
  });

  it('hands the grant only to the task’s own DPoP key, without consuming it otherwise', async () => {
    const id = await ask();
    for (const n of ['bob', 'carol']) await (await s.approver(n)).decide(id, 'approve');
    expect((await poll(id, { dpop: await newKey() })).body.error).toBe('invalid_grant');
    s.clock.advance(6);
    expect((await poll(id)).status).toBe(200);
  });
});

describe('asking again for the same action', () => {
  it('answers with the open request’s auth_req_id: one pending row, and the second answer polls the same request', async () => {
    const first = await ask();
    s.clock.advance(30);
    const again = await agent.exchange(taskToken, { scope: 'volume.delete' });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'approval_required', auth_req_id: first, expires_in: 570, interval: 5 });
    const bob = await s.approver('bob');
    const pending = (await bob.call('GET', '/v1/approvals?status=pending')).body.approvals;
    expect(pending.map((a: any) => a.id)).toEqual([first]);
    // Another action is another request.
    const other = await ask('backup.delete');
    expect(other).not.toBe(first);
    expect((await bob.call('GET', '/v1/approvals?status=pending')).body.approvals).toHaveLength(2);
    // The trajectory says the agent asked again.
    const view = (await (await s.broker.admin(`/v1/tasks/${taskId}`)).json()) as any;
    expect(view.events.filter((e: any) => e.detail.type === 'approval.asked_again').map((e: any) => e.detail.auth_req_id)).toEqual([first]);
  });

  it('an approved request not yet handed out is the answer too; once delivered, denied or expired, a new request opens', async () => {
    const [bob, carol] = [await s.approver('bob'), await s.approver('carol')];
    const first = await ask();
    for (const a of [bob, carol]) await a.decide(first, 'approve');
    expect(await ask()).toBe(first);
    s.clock.advance(6);
    expect((await poll(first)).status).toBe(200);
    const second = await ask();
    expect(second).not.toBe(first);
    await bob.decide(second, 'deny');
    const third = await ask();
    expect(third).not.toBe(second);
    s.clock.advance(601);
    const fourth = await ask();
    expect(fourth).not.toBe(third);
  });

  it('a backchannel request with another binding message is another request; the same one is the same', async () => {
    const { dpopProof, assertion } = await import('./helpers/agent.js');
    const bc = async (binding_message: string) => {
      const res = await s.broker.request('/bc-authorize', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(await agent.dpopKey(), 'POST', 'http://localhost:8787/bc-authorize', { nowSec: s.nowSec() }) },
        body: new URLSearchParams({
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(agent.key, agent.clientId, 'http://localhost:8787', { nowSec: s.nowSec() }),
          subject_token: taskToken,
          scope: 'backup.delete',
          binding_message,
        }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as any).auth_req_id as string;
    };
    const a = await bc('INC-1 purge expired backups');
    expect(await bc('INC-1 purge expired backups')).toBe(a);
    expect(await bc('INC-2 purge every backup')).not.toBe(a);
    // The token endpoint's ask (no binding message) is not the backchannel one.
    expect(await ask('backup.delete')).not.toBe(a);
  });
});

describe('single use', () => {
  it('50 concurrent introspections: exactly one active', async () => {
    const id = await ask();
    for (const n of ['bob', 'carol']) await (await s.approver(n)).decide(id, 'approve');
    const grant = (await poll(id)).body.access_token as string;
    // Resource services consume grants; the operator's introspection does not (issue 12).
    const rs = (await (await s.broker.admin('/v1/resources', { name: 'volumes', audience: 'https://api.production.example/volumes' })).json()) as any;
    const basic = `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`;
    const results = await Promise.all(Array.from({ length: 50 }, () => s.broker.introspect(grant, basic)));
    expect(results.filter((r) => r.active === true)).toHaveLength(1);
    expect(results.filter((r) => r.active === false)).toHaveLength(49);
  });

  it('a stop voids pending approvals and unused grants', async () => {
    const pending = await ask();
    s.clock.advance(6);
    const approved = await ask('backup.delete');
    for (const n of ['bob', 'carol']) await (await s.approver(n)).decide(approved, 'approve');
    await s.broker.admin(`/v1/tasks/${taskId}/revoke`, {});
    await expect.poll(async () => (await (await s.approver('erin')).call('GET', `/v1/approvals/${pending}`)).body.status).toBe('voided');
    expect((await poll(pending)).body.error).toBe('access_denied');
    expect((await poll(approved)).body.error).toBe('access_denied');
  });

  it('a grant is void once its task is stopped, even after delivery', async () => {
    const id = await ask();
    for (const n of ['bob', 'carol']) await (await s.approver(n)).decide(id, 'approve');
    const grant = (await poll(id)).body.access_token as string;
    await s.broker.admin(`/v1/tasks/${taskId}/revoke`, {});
    expect(await s.broker.introspect(grant)).toEqual({ active: false });
  });
});

describe('the ordinary path cannot mint a grant', () => {
  it('a grant-shaped token signed by the broker’s key is not active', async () => {
    const claims = decodeJwt(taskToken);
    const { SignJWT: Sign } = await import('jose');
    const forged = await new Sign({ ...claims, token_use: 'grant', aud: 'https://api.production.example/volumes', scope: 'volume.delete' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: s.broker.core.keys.kid })
      .sign(s.broker.core.keys.privateKey);
    expect(await s.broker.introspect(forged)).toEqual({ active: false });
  });
});

describe('high impact + low confidence', () => {
  it('refuses a destructive request outright after 2 recent tool errors, without opening an approval', async () => {
    const rs = (await (await s.broker.admin('/v1/resources', { name: 'db', audience: 'https://api.production.example/db' })).json()) as any;
    for (const detail of ['timeout', 'connection reset']) {
      await s.broker.request('/v1/signals', {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'tool_error', task_id: taskId, detail }),
      });
    }
    const res = await agent.exchange(taskToken, { scope: 'volume.delete' });
    expect(res.body.error).toBe('access_denied');
    expect(res.body.error_description).toMatch(/high impact, low confidence/);
    expect(res.body.auth_req_id).toBeUndefined();
    const bob = await s.approver('bob');
    expect((await bob.call('GET', '/v1/approvals?status=pending')).body.approvals).toEqual([]);
  });

  it('one tool error is not enough; the window forgets', async () => {
    const rs = (await (await s.broker.admin('/v1/resources', { name: 'db', audience: 'https://api.production.example/db' })).json()) as any;
    const signal = () =>
      s.broker.request('/v1/signals', {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'tool_error', task_id: taskId }),
      });
    await signal();
    expect((await agent.exchange(taskToken, { scope: 'volume.delete' })).body.error).toBe('approval_required');
    await signal();
    s.clock.advance(601);
    expect((await agent.exchange(taskToken, { scope: 'backup.delete' })).body.error).toBe('approval_required');
  });
});

describe('backchannel authentication', () => {
  it('POST /bc-authorize opens a request with a binding message', async () => {
    const { dpopProof, assertion } = await import('./helpers/agent.js');
    const res = await s.broker.request('/bc-authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(await agent.dpopKey(), 'POST', 'http://localhost:8787/bc-authorize', { nowSec: s.nowSec() }) },
      body: new URLSearchParams({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(agent.key, agent.clientId, 'http://localhost:8787', { nowSec: s.nowSec() }),
        subject_token: taskToken,
        scope: 'backup.delete',
        binding_message: 'INC-4521 purge expired backups',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ auth_req_id: expect.any(String), expires_in: 600, interval: 5 });
    const view = await (await s.approver('bob')).call('GET', `/v1/approvals/${body.auth_req_id}`);
    expect(view.body.binding_message).toBe('INC-4521 purge expired backups');
  });
});

describe('approvers see the agent’s history across its tasks', () => {
  it('a tool error in another task is in the request’s trajectory, and failures there count toward low confidence', async () => {
    const elsewhere = await agent.openTask('ops-maintenance', 'production');
    const toolError = () => s.broker.admin('/v1/signals', { type: 'tool_error', task_id: elsewhere.body.task_id, detail: 'migration failed' });
    expect((await toolError()).status).toBe(202);
    const res = await agent.exchange(taskToken, { scope: 'volume.delete' });
    expect(res.body.error).toBe('approval_required');
    const bob = await s.approver('bob');
    const list = (await bob.call('GET', '/v1/approvals')).body.approvals as any[];
    const mine = list.find((x) => x.task.id === taskId);
    expect(mine.task.trajectory.some((e: any) => e.detail.task_id === elsewhere.body.task_id && e.detail.signal === 'tool_error')).toBe(true);
    // A second failure elsewhere makes two: a destructive request here is now refused outright.
    expect((await toolError()).status).toBe(202);
    expect((await agent.exchange(taskToken, { scope: 'backup.delete' })).body.error).toBe('access_denied');
  });
});

describe('the approval service accepts no agent or operator credential', () => {
  it('refuses the operator token and the approval admin token on approver routes', async () => {
    for (const token of [s.ADMIN, APPROVAL_ADMIN]) {
      const res = await s.approvals.app.request(`${APPROVALS}/v1/approvals`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
    const res = await s.approvals.app.request(`${APPROVALS}/v1/approvers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x', groups: ['sre'], jwk: (await newKey()).publicJwk }),
    });
    expect(res.status).toBe(401);
  });

  it('an agent credential presented there without a proof of its key is leaked: revoked, nobody stopped', async () => {
    const res = await s.approvals.app.request(`${APPROVALS}/v1/approvals`, { headers: { Authorization: `DPoP ${taskToken}` } });
    expect(res.status).toBe(403);
    const view = (await (await s.broker.admin(`/v1/tasks/${taskId}`)).json()) as any;
    // Leaked: the task token is revoked and its task with it, but nobody is stopped or locked.
    expect(view.status).toBe('revoked');
    expect(await s.broker.introspect(taskToken)).toEqual({ active: false });
    expect((await agent.openTask('ops-maintenance', 'production')).status).toBe(200); // not locked
  });

  it('an agent credential presented there with a proof of its own key stops that agent’s task', async () => {
    const url = `${APPROVALS}/v1/approvals`;
    const proof = await dpopProof(await agent.dpopKey(), 'GET', url, { nowSec: s.broker.nowSec(), accessToken: taskToken });
    const res = await s.approvals.app.request(url, { headers: { Authorization: `DPoP ${taskToken}`, DPoP: proof } });
    expect(res.status).toBe(403);
    const view = (await (await s.broker.admin(`/v1/tasks/${taskId}`)).json()) as any;
    expect(view).toMatchObject({ status: 'stopped', status_reason: expect.stringMatching(/approval service/) });
  });

  it('refuses approver JWTs that are expired, too long-lived, replayed or for another audience', async () => {
    const bob = await s.approver('bob');
    const sign = (o: { aud?: string; ttl?: number; iat?: number; jti?: string }) =>
      new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(bob.id).setAudience(o.aud ?? APPROVALS).setIssuedAt(o.iat ?? s.nowSec()).setExpirationTime((o.iat ?? s.nowSec()) + (o.ttl ?? 60)).setJti(o.jti ?? crypto.randomUUID()).sign(bob.key.privateKey);
    const get = async (jwt: string) => (await s.approvals.app.request(`${APPROVALS}/v1/approvals`, { headers: { Authorization: `Bearer ${jwt}` } })).status;
    expect(await get(await sign({ aud: 'http://localhost:8787' }))).toBe(401);
    expect(await get(await sign({ ttl: 600 }))).toBe(401);
    expect(await get(await sign({ iat: s.nowSec() - 120 }))).toBe(401);
    const once = await sign({});
    expect(await get(once)).toBe(200);
    expect(await get(once)).toBe(401);
  });
});

describe('concurrency', () => {
  it('parallel replays of one DPoP proof: exactly one winner', async () => {
    const { dpopProof } = await import('./helpers/agent.js');
    const proof = await dpopProof(await agent.dpopKey(), 'POST', 'http://localhost:8787/token', { nowSec: s.nowSec() });
    const results = await Promise.all(Array.from({ length: 20 }, () => agent.exchange(taskToken, { scope: 'db.read' }, { proof })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_dpop_proof')).toHaveLength(19);
  });

  it('parallel polls of one approved request: the grant is delivered once', async () => {
    const id = await ask();
    for (const n of ['bob', 'carol']) await (await s.approver(n)).decide(id, 'approve');
    const results = await Promise.all(Array.from({ length: 20 }, () => poll(id)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });
});
