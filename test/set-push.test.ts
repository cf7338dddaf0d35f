import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { SESSION_REVOKED } from '../src/core/set.js';
import { testBroker } from './helpers/broker.js';

describe('SET push (RFC 8417 / RFC 8935)', () => {
  it('delivers a signed CAEP session-revoked SET to every registered receiver when a task is revoked', async () => {
    const received: { url: string; type: string | null; body: string }[] = [];
    const b = await testBroker({
      setFetch: (async (url: string, init: RequestInit) => {
        received.push({ url, type: new Headers(init.headers).get('Content-Type'), body: String(init.body) });
        return new Response(null, { status: 202 });
      }) as typeof fetch,
    });
    const reg = await b.admin('/v1/receivers', { endpoint: 'https://siem.example/sets', audience: 'https://siem.example' });
    expect(reg.status).toBe(201);
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    await b.admin(`/v1/tasks/${task.body.task_id}/revoke`, {});
    await expect.poll(() => received.length).toBe(1);

    expect(received[0]).toMatchObject({ url: 'https://siem.example/sets', type: 'application/secevent+jwt' });
    const jwks = createLocalJWKSet((await (await b.request('/.well-known/jwks.json')).json()) as any);
    const { payload, protectedHeader } = await jwtVerify(received[0]!.body, jwks, { typ: 'secevent+jwt', issuer: 'http://localhost:8787', audience: 'https://siem.example', currentDate: new Date(b.clock.now()) });
    expect(protectedHeader.typ).toBe('secevent+jwt');
    expect(payload.sub_id).toEqual({ format: 'opaque', id: task.body.task_id });
    const event = (payload.events as any)[SESSION_REVOKED];
    expect(event).toMatchObject({ initiating_entity: 'admin', stint_event: { type: 'task.revoked', task_id: task.body.task_id } });
  });

  it('refuses receivers that are not http(s) URLs', async () => {
    const b = await testBroker();
    expect((await b.admin('/v1/receivers', { endpoint: 'file:///etc/passwd' })).status).toBe(400);
  });
});
