import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { assertion, dpopProof, newKey } from './helpers/agent.js';
import { ISSUER, TASK_DETAILS, testBroker, type TestBroker } from './helpers/broker.js';

let b: TestBroker;
beforeEach(async () => {
  b = await testBroker();
});

const err = (res: { status: number; body: Record<string, any> }, status: number, error: string) => {
  expect(res.body.error).toBe(error);
  expect(res.status).toBe(status);
  expect(typeof res.body.error_description).toBe('string');
  expect(res.body.access_token).toBeUndefined();
};

describe('task ceiling and grants', () => {
  it('refuses a capability outside the template ceiling', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    err(await agent.exchange(task.body.access_token, { scope: 'db.read' }), 400, 'invalid_authorization_details');
    err(await agent.exchange(task.body.access_token, { scope: 'no.such.capability' }), 400, 'invalid_authorization_details');
    err(
      await agent.exchange(task.body.access_token, { authorization_details: JSON.stringify([{ type: 'stint_capability', actions: ['config.read', 'db.read'] }]) }),
      400,
      'invalid_authorization_details',
    );
  });

  it('refuses a template not granted to the agent', async () => {
    const agent = await b.registerAgent({ templates: ['fix-credentials'] });
    err(await agent.openTask('ops-maintenance', 'production'), 400, 'invalid_authorization_details');
  });

  it('refuses an environment the template does not allow', async () => {
    const agent = await b.registerAgent({ templates: ['fix-credentials'] });
    err(await agent.openTask('fix-credentials', 'production'), 400, 'invalid_authorization_details');
    err(await agent.openTask('fix-credentials', 'moon'), 400, 'invalid_authorization_details');
  });

  it('never mints a destructive capability on the ordinary path', async () => {
    const agent = await b.registerAgent({ templates: ['ops-maintenance'] });
    const task = await agent.openTask('ops-maintenance', 'production');
    err(await agent.exchange(task.body.access_token, { scope: 'volume.delete' }), 400, 'approval_required');
    err(await agent.exchange(task.body.access_token, { scope: 'backup.delete' }), 400, 'approval_required');
  });

  it('refuses a resource or location that is not the capability’s', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    err(await agent.exchange(task.body.access_token, { scope: 'config.read', resource: 'https://api.production.example/config' }), 400, 'invalid_target');
    err(
      await agent.exchange(task.body.access_token, {
        authorization_details: JSON.stringify([{ type: 'stint_capability', actions: ['config.read'], locations: ['https://evil.example/'] }]),
      }),
      400,
      'invalid_target',
    );
  });

  it('refuses a task request without stint_task details, or with malformed ones', async () => {
    const agent = await b.registerAgent();
    err(await agent.token({ grant_type: 'client_credentials' }), 400, 'invalid_authorization_details');
    err(await agent.token({ grant_type: 'client_credentials', authorization_details: '{nope' }), 400, 'invalid_authorization_details');
    err(await agent.token({ grant_type: 'client_credentials', authorization_details: '[{"type":"stint_task"}]' }), 400, 'invalid_authorization_details');
  });
});

describe('client authentication (private_key_jwt)', () => {
  it('refuses an assertion signed by a key not registered for the client', async () => {
    const agent = await b.registerAgent();
    const foreign = await newKey();
    err(await agent.openTask(undefined, undefined, { assertionKey: foreign }), 401, 'invalid_client');
  });

  it('answers a bad assertion with invalid_client even when the DPoP proof is bad too (checked together)', async () => {
    const agent = await b.registerAgent();
    const foreign = await newKey();
    for (let i = 0; i < 5; i++) err(await agent.openTask(undefined, undefined, { assertionKey: foreign, proof: 'not.a.proof' }), 401, 'invalid_client');
    err(await agent.openTask(undefined, undefined, { proof: 'not.a.proof' }), 400, 'invalid_dpop_proof');
  });

  it('refuses a replayed assertion', async () => {
    const agent = await b.registerAgent();
    const jti = randomUUID();
    expect((await agent.openTask(undefined, undefined, { assertionJti: jti })).status).toBe(200);
    err(await agent.openTask(undefined, undefined, { assertionJti: jti }), 401, 'invalid_client');
  });

  it('refuses an expired assertion, one that lives too long, and one for another audience', async () => {
    const agent = await b.registerAgent();
    const send = async (a: string) =>
      agent.token({ grant_type: 'client_credentials', authorization_details: TASK_DETAILS(), client_assertion: a });
    const now = b.nowSec();
    err(await send(await assertion(agent.key, agent.clientId, ISSUER, { nowSec: now - 120, ttl: 60 })), 401, 'invalid_client');
    err(await send(await assertion(agent.key, agent.clientId, ISSUER, { nowSec: now, ttl: 3600 })), 401, 'invalid_client');
    err(await send(await assertion(agent.key, agent.clientId, 'https://other.example', { nowSec: now })), 401, 'invalid_client');
    err(await send(await assertion(agent.key, agent.clientId, ISSUER, { nowSec: now, iss: 'someone-else' })), 401, 'invalid_client');
    expect((await send(await assertion(agent.key, agent.clientId, `${ISSUER}/token`, { nowSec: now }))).status).toBe(200);
  });

  it('refuses unknown clients and missing client authentication', async () => {
    const agent = await b.registerAgent();
    const ghost = await newKey();
    const res = await b.request('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(ghost, 'POST', `${ISSUER}/token`, { nowSec: b.nowSec() }) },
      body: new URLSearchParams({ grant_type: 'client_credentials', authorization_details: TASK_DETAILS() }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toBe('invalid_client');
    const unknown = b.agentClient('agt_doesnotexist', agent.key);
    err(await unknown.openTask(), 401, 'invalid_client');
  });

  it('accepts ES256 agent keys', async () => {
    const agent = await b.registerAgent({ alg: 'ES256' });
    expect((await agent.openTask()).status).toBe(200);
  });
});

describe('DPoP (RFC 9449)', () => {
  it('refuses a token request without a DPoP proof', async () => {
    const agent = await b.registerAgent();
    err(await agent.openTask(undefined, undefined, { dpop: null }), 400, 'invalid_dpop_proof');
  });

  it('refuses a replayed DPoP proof', async () => {
    const agent = await b.registerAgent();
    const proof = await dpopProof(await agent.dpopKey(), 'POST', `${ISSUER}/token`, { nowSec: b.nowSec() });
    expect((await agent.openTask(undefined, undefined, { proof })).status).toBe(200);
    err(await agent.openTask(undefined, undefined, { proof }), 400, 'invalid_dpop_proof');
  });

  it('refuses a proof for another URL, another method, a stale iat or the wrong typ', async () => {
    const agent = await b.registerAgent();
    const key = await agent.dpopKey();
    const now = b.nowSec();
    err(await agent.openTask(undefined, undefined, { htu: 'https://evil.example/token' }), 400, 'invalid_dpop_proof');
    err(await agent.openTask(undefined, undefined, { proof: await dpopProof(key, 'GET', `${ISSUER}/token`, { nowSec: now }) }), 400, 'invalid_dpop_proof');
    err(await agent.openTask(undefined, undefined, { proof: await dpopProof(key, 'POST', `${ISSUER}/token`, { nowSec: now - 600 }) }), 400, 'invalid_dpop_proof');
    err(await agent.openTask(undefined, undefined, { proof: await dpopProof(key, 'POST', `${ISSUER}/token`, { nowSec: now, typ: 'JWT' }) }), 400, 'invalid_dpop_proof');
    err(await agent.openTask(undefined, undefined, { proof: 'not.a.jwt' }), 400, 'invalid_dpop_proof');
  });

  it('stops on a task token presented with a different DPoP key', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    err(await agent.exchange(task.body.access_token, { scope: 'config.read' }, { dpop: await newKey() }), 400, 'task_stopped');
  });

  it('stops on another agent’s task token', async () => {
    const owner = await b.registerAgent({ name: 'owner' });
    const thief = await b.registerAgent({ name: 'thief' });
    const task = await owner.openTask();
    err(await thief.exchange(task.body.access_token, { scope: 'config.read' }, { dpop: await owner.dpopKey() }), 400, 'task_stopped');
  });

  it('refuses a capability token as subject_token', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    err(await agent.exchange(cap.body.access_token, { scope: 'config.read' }), 400, 'invalid_grant');
  });
});

describe('task lifetime', () => {
  it('refuses an expired task (frozen clock past the policy hard expiry)', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    b.clock.advance(3599);
    expect((await agent.exchange(task.body.access_token, { scope: 'config.read' })).status).toBe(200);
    b.clock.advance(1);
    err(await agent.exchange(task.body.access_token, { scope: 'config.read' }), 400, 'invalid_grant');
    const view = (await (await b.admin(`/v1/tasks/${task.body.task_id}`)).json()) as any;
    expect(view.status).toBe('expired');
  });
});

describe('the token endpoint’s own rules', () => {
  it('refuses unknown grant types, a missing grant_type and repeated parameters', async () => {
    const agent = await b.registerAgent();
    err(await agent.token({ grant_type: 'password' }), 400, 'unsupported_grant_type');
    err(await agent.token({}), 400, 'invalid_request');
    const res = await b.request('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('invalid_request');
  });

  it('refuses a JSON body and an oversize body (413)', async () => {
    const json = await b.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect(((await json.json()) as any).error).toBe('invalid_request');
    const big = await b.request('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&x=${'a'.repeat(70 * 1024)}`,
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error).toBe('payload_too_large');
  });

  it('refuses both scope and authorization_details, and an unsupported requested_token_type', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const details = JSON.stringify([{ type: 'stint_capability', actions: ['config.read'] }]);
    err(await agent.exchange(task.body.access_token, { scope: 'config.read', authorization_details: details }), 400, 'invalid_request');
    err(await agent.exchange(task.body.access_token, { scope: 'config.read', requested_token_type: 'urn:x' }), 400, 'invalid_request');
    err(await agent.exchange(task.body.access_token, { scope: 'Not A Cap' }), 400, 'invalid_scope');
  });
});

describe('operator API', () => {
  it('refuses registration without the operator token, and malformed registrations (RFC 9457)', async () => {
    const key = await newKey();
    const noAuth = await b.request('/v1/agents', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'x', owner: 'y', jwks: { keys: [key.publicJwk] } }) });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('Content-Type')).toBe('application/problem+json');
    expect(((await noAuth.json()) as any).error).toBe('unauthorized');

    const priv = { ...key.publicJwk, d: 'AAAA' };
    const cases = [
      { name: 'x', owner: 'y', jwks: { keys: [priv] } },
      { name: 'x', owner: 'y', jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } },
      { name: 'x', owner: 'y', jwks: { keys: [key.publicJwk] }, templates: ['nope'] },
      { name: '', owner: 'y', jwks: { keys: [key.publicJwk] } },
      { name: 'x', owner: 'y', jwks: { keys: [] } },
    ];
    for (const body of cases) {
      const res = await b.admin('/v1/agents', body);
      expect(res.status).toBe(400);
      const p = (await res.json()) as any;
      expect(p).toMatchObject({ status: 400, error: 'invalid_request', type: 'urn:stint:problem:invalid_request' });
    }
  });

  it('hides the resource secret after registration and stores only its hash', async () => {
    const res = await b.admin('/v1/resources', { name: 'config', audience: 'https://api.staging.example/config' });
    expect(res.status).toBe(201);
    const r = (await res.json()) as any;
    const row = b.sqlite.prepare('select * from resources where id = ?').get(r.client_id) as any;
    expect(JSON.stringify(row)).not.toContain(r.client_secret);
  });

  it('answers 404 for unknown tasks and routes', async () => {
    expect((await b.admin('/v1/tasks/task_doesnotexist00')).status).toBe(404);
    expect((await b.admin('/v1/tasks/../../etc')).status).toBe(404);
    expect((await b.request('/nope')).status).toBe(404);
  });
});

describe('bodies without a declared length', () => {
  it('are counted as they stream and refused past the limit (413)', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(8192));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ >= 10) return c.close();
        c.enqueue(chunk);
      },
    });
    const res = await b.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error).toBe('payload_too_large');
  });
});
