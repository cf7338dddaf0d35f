import { describe, expect, it } from 'vitest';
import { dpopProof } from '../helpers/agent.js';
import { ISSUER, testBroker } from '../helpers/broker.js';

const RAILWAY = '0c3b9d1e-5f6a-4b7c-8d9e-0f1a2b3c4d5e';
const entry = { name: 'railway-staging', environment: 'staging', hosts: ['backboard.railway.app'], header: 'Authorization', scheme: 'Bearer', value: RAILWAY };

async function session(b: Awaited<ReturnType<typeof testBroker>>, agent: Awaited<ReturnType<Awaited<ReturnType<typeof testBroker>>['registerAgent']>>, token: string, names: string[] = []) {
  const proof = await dpopProof(await agent.dpopKey(), 'POST', `${ISSUER}/v1/egress/session`, { nowSec: b.nowSec(), accessToken: token });
  const res = await b.request('/v1/egress/session', { method: 'POST', headers: { Authorization: `DPoP ${token}`, DPoP: proof, 'Content-Type': 'application/json' }, body: JSON.stringify({ names }) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('custody', () => {
  it('stores an entry sealed, answers 201 without the value, lists without values, and never in the vault list', async () => {
    const b = await testBroker();
    const res = await b.admin('/v1/custody', entry);
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(RAILWAY);
    expect(JSON.parse(text)).toMatchObject({ name: 'railway-staging', environment: 'staging', hosts: ['backboard.railway.app'], header: 'Authorization', scheme: 'Bearer' });
    const list = await (await b.admin('/v1/custody')).text();
    expect(list).not.toContain(RAILWAY);
    expect(JSON.parse(list).custody).toHaveLength(1);
    expect(await (await b.admin('/v1/secrets')).json()).toEqual({ secrets: [] });
    const row = await b.core.store.secrets.get('custody:railway-staging');
    expect(row!.sealedValue).not.toContain(RAILWAY);
    expect(await (await b.admin('/v1/audit')).text()).not.toContain(RAILWAY);
  });

  it('refuses without the operator bearer, and refuses bad input with 400 (never a 500, never the value)', async () => {
    const b = await testBroker();
    expect((await b.request('/v1/custody', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(entry) })).status).toBe(401);
    expect((await b.request('/v1/custody')).status).toBe(401);
    for (const bad of [{ ...entry, environment: 'nowhere' }, { ...entry, hosts: [] }, { ...entry, hosts: ['https://x'] }, { ...entry, value: 'has space' }, { ...entry, header: undefined }, { ...entry, extra: 1 }, { ...entry, hosts: ['api.production.example'] }]) {
      const res = await b.admin('/v1/custody', bad);
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain(RAILWAY);
    }
  });

  it('hands the values of its environment to a live task of that environment only (the egress session)', async () => {
    const b = await testBroker();
    await b.admin('/v1/custody', entry);
    await b.admin('/v1/custody', { ...entry, name: 'railway-production', environment: 'production', value: 'prod-secret-value-1' });
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const s = await session(b, agent, task.body.access_token, ['railway-staging']);
    expect(s.status).toBe(200);
    expect(s.body.environment).toBe('staging');
    expect(s.body.custody).toEqual([{ ...entry }]);
    expect(s.body.inspect).toEqual(expect.arrayContaining(['backboard.railway.app', '*.staging.example']));
    const other = await session(b, agent, task.body.access_token, ['railway-production']);
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_request');
    expect(JSON.stringify(other.body)).not.toContain('prod-secret');
    // an operator bearer is no task token
    expect((await b.admin('/v1/egress/session', { names: [] })).status).toBe(401);
  });
});
