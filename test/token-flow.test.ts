import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { testBroker, type TestBroker } from './helpers/broker.js';

let b: TestBroker;
beforeEach(async () => {
  b = await testBroker();
});

describe('task → capability flow', () => {
  it('opens a task bound to the DPoP key and echoes its ceiling', async () => {
    const agent = await b.registerAgent();
    const res = await agent.openTask();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'DPoP', expires_in: 3600 });
    expect(res.body.task_id).toMatch(/^task_/);
    expect(res.body.authorization_details).toEqual([
      {
        type: 'stint_task',
        task_id: res.body.task_id,
        template: 'fix-credentials',
        environment: 'staging',
        purpose: 'rotate the staging DB password',
        ceiling: ['config.read', 'config.write', 'aws.s3.read'],
      },
    ]);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({ sub: agent.clientId, aud: 'http://localhost:8787', task_id: res.body.task_id, env: 'staging', token_use: 'task' });
    expect(claims.cnf).toEqual({ jkt: (await agent.dpopKey()).jkt });
  });

  it('exchanges the task token for an RFC 9068 capability token (scope)', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const res = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_type: 'DPoP',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      expires_in: 300,
      authorization_details: [{ type: 'stint_capability', actions: ['config.read'], locations: ['https://api.staging.example/config'] }],
    });
    expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA', kid: b.core.keys.kid });
    const c = decodeJwt(res.body.access_token);
    expect(c).toMatchObject({
      iss: 'http://localhost:8787',
      sub: agent.clientId,
      aud: 'https://api.staging.example/config',
      client_id: agent.clientId,
      task_id: task.body.task_id,
      env: 'staging',
      cnf: { jkt: (await agent.dpopKey()).jkt },
      authorization_details: [{ type: 'stint_capability', actions: ['config.read'] }],
    });
    expect(c.exp! - c.iat!).toBe(300);
    expect(typeof c.jti).toBe('string');
  });

  it('accepts RAR authorization_details and RFC 8707 resource', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const res = await agent.exchange(task.body.access_token, {
      authorization_details: JSON.stringify([{ type: 'stint_capability', actions: ['config.write'], locations: ['https://api.staging.example/config'] }]),
      resource: 'https://api.staging.example/config',
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).scope).toBe('config.write');
  });

  it('caps capability TTL by environment (production: 120 s) and by the task’s remaining life', async () => {
    const agent = await b.registerAgent({ templates: ['ops-maintenance'] });
    const task = await agent.openTask('ops-maintenance', 'production');
    expect(task.status).toBe(200);
    expect(task.body.expires_in).toBe(1800);
    const res = await agent.exchange(task.body.access_token, { scope: 'db.read' });
    expect(res.body.expires_in).toBe(120);
    b.clock.advance(1800 - 50);
    const late = await agent.exchange(task.body.access_token, { scope: 'db.read' });
    expect(late.status).toBe(200);
    expect(late.body.expires_in).toBe(50);
  });

  it('records every grant and denial in the task trajectory, in order', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    await agent.exchange(task.body.access_token, { scope: 'config.read' });
    await agent.exchange(task.body.access_token, { scope: 'db.read' });
    const res = await b.admin(`/v1/tasks/${task.body.task_id}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as any;
    expect(view).toMatchObject({ status: 'active', agent: agent.clientId, template: 'fix-credentials', environment: 'staging', purpose: 'rotate the staging DB password' });
    expect(view.events.map((e: any) => e.detail.type)).toEqual(['task.opened', 'capability.issued', 'capability.denied']);
  });

  it('lets the task’s own agent read and complete its task, after which its tokens stop working', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    const path = `/v1/tasks/${task.body.task_id}`;
    expect((await agent.call('GET', path, task.body.access_token)).status).toBe(200);
    const done = await agent.call('POST', `${path}/complete`, task.body.access_token);
    expect(done.status).toBe(200);
    expect(((await done.json()) as any).status).toBe('completed');
    expect(await b.introspect(cap.body.access_token)).toEqual({ active: false });
    const again = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses to complete a task with a capability token, or without the DPoP key', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    const path = `/v1/tasks/${task.body.task_id}/complete`;
    // A capability token is not an agent credential at the broker (issue 12): 401 invalid_token.
    const withCap = await agent.call('POST', path, cap.body.access_token);
    expect(withCap.status).toBe(401);
    expect(((await withCap.json()) as any).error).toBe('invalid_token');
    const other = await (await import('./helpers/agent.js')).newKey();
    // The task token with a proof by a key no task holds: refused, and the token has leaked.
    const res = await agent.call('POST', path, task.body.access_token, { dpop: other });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toBe('invalid_token');
    expect(((await (await b.admin(`/v1/tasks/${task.body.task_id}`)).json()) as any).status).toBe('revoked');
  });
});

describe('introspection and revocation', () => {
  it('introspects for the operator and for the resource service of the token’s audience only', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    const op = await b.introspect(cap.body.access_token);
    expect(op).toMatchObject({ active: true, token_type: 'DPoP', sub: agent.clientId, aud: 'https://api.staging.example/config', task_id: task.body.task_id, env: 'staging', scope: 'config.read' });

    const reg = async (audience: string) => (await (await b.admin('/v1/resources', { name: 'svc', audience })).json()) as any;
    const config = await reg('https://api.staging.example/config');
    const volumes = await reg('https://api.staging.example/volumes');
    const basic = (r: any) => `Basic ${btoa(`${r.client_id}:${r.client_secret}`)}`;
    expect((await b.introspect(cap.body.access_token, basic(config))).active).toBe(true);
    expect(await b.introspect(cap.body.access_token, basic(volumes))).toEqual({ active: false });

    const bad = await b.form('/introspect', { token: cap.body.access_token }, `Basic ${btoa(`${config.client_id}:wrong`)}`);
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as any).error).toBe('invalid_client');
  });

  it('answers active:false for garbage, expired and unknown tokens', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    expect(await b.introspect('not-a-token')).toEqual({ active: false });
    b.clock.advance(301);
    expect(await b.introspect(cap.body.access_token)).toEqual({ active: false });
    const other = await testBroker();
    expect(await other.introspect(task.body.access_token)).toEqual({ active: false });
  });

  it('revokes one capability token (RFC 7009) by its agent, leaving the task alive', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const cap = await agent.exchange(task.body.access_token, { scope: 'config.read' });
    const { assertion } = await import('./helpers/agent.js');
    const res = await b.request('/revoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: cap.body.access_token,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(agent.key, agent.clientId, 'http://localhost:8787', { nowSec: b.nowSec() }),
      }),
    });
    expect(res.status).toBe(200);
    expect(await b.introspect(cap.body.access_token)).toEqual({ active: false });
    expect((await b.introspect(task.body.access_token)).active).toBe(true);
  });

  it('revokes a whole task: every token it holds is inactive when the call returns', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const caps = await Promise.all([agent.exchange(task.body.access_token, { scope: 'config.read' }), agent.exchange(task.body.access_token, { scope: 'config.write' })]);
    const res = await b.admin(`/v1/tasks/${task.body.task_id}/revoke`, {});
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).status).toBe('revoked');
    for (const t of [task.body.access_token, ...caps.map((c) => c.body.access_token)]) expect(await b.introspect(t)).toEqual({ active: false });
  });

  it('revoking the task token through RFC 7009 ends the task', async () => {
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const res = await b.form('/revoke', { token: task.body.access_token }, `Bearer ${'test-admin-token-0123456789'}`);
    expect(res.status).toBe(200);
    const view = (await (await b.admin(`/v1/tasks/${task.body.task_id}`)).json()) as any;
    expect(view.status).toBe('revoked');
  });

  it('an agent revoking another agent’s token revokes it (it has leaked) and gets the same 200', async () => {
    const a = await b.registerAgent({ name: 'a' });
    const other = await b.registerAgent({ name: 'b' });
    const task = await a.openTask();
    const { assertion } = await import('./helpers/agent.js');
    const res = await b.request('/revoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: task.body.access_token,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(other.key, other.clientId, 'http://localhost:8787', { nowSec: b.nowSec() }),
      }),
    });
    expect(res.status).toBe(200);
    expect(await b.introspect(task.body.access_token)).toEqual({ active: false });
    expect(((await (await b.admin(`/v1/tasks/${task.body.task_id}`)).json()) as any).status).toBe('revoked');
  });
});

describe('metadata and keys', () => {
  it('serves RFC 8414 metadata and a JWKS holding the signing key', async () => {
    const meta = (await (await b.request('/.well-known/oauth-authorization-server')).json()) as any;
    expect(meta).toMatchObject({
      issuer: 'http://localhost:8787',
      token_endpoint: 'http://localhost:8787/token',
      jwks_uri: 'http://localhost:8787/.well-known/jwks.json',
      introspection_endpoint: 'http://localhost:8787/introspect',
      revocation_endpoint: 'http://localhost:8787/revoke',
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      dpop_signing_alg_values_supported: ['EdDSA', 'Ed25519', 'ES256'],
      authorization_details_types_supported: ['stint_task', 'stint_capability'],
    });
    const jwks = (await (await b.request('/.well-known/jwks.json')).json()) as any;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: b.core.keys.kid, use: 'sig', alg: 'EdDSA' });
    expect(jwks.keys[0].d).toBeUndefined();
  });
});
