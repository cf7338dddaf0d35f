// Issue 12 finding 4: audit-log flooding. Refusals before client authentication are counted,
// not appended one by one; the unauthenticated doors are rate-limited per source (429 with
// Retry-After, in the path's own error form).
import { describe, expect, it } from 'vitest';
import { sourceKey } from '../src/http/client-address.js';
import { parseRateLimit } from '../src/http/rate-limit.js';
import { ISSUER, testBroker } from './helpers/broker.js';

const form = (params: Record<string, string>, source = '203.0.113.7') => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': source, DPoP: 'x.y.z' },
  body: new URLSearchParams(params),
});
const bogus = (i: number) => ({
  grant_type: 'client_credentials',
  client_id: `x${'A'.repeat(60_000)}${i}`,
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: 'not.a.jwt',
});

describe('refusals before client authentication', () => {
  it('are aggregated per code and source per interval, with truncated fields, instead of one record each', async () => {
    const b = await testBroker();
    const before = (await b.core.store.audit.list(0, 10_000)).length;
    for (let i = 0; i < 50; i++) {
      const res = await b.request('/token', form(bogus(i)));
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error).toBe('invalid_client');
    }
    // Nothing appended yet: the interval has not ended.
    expect((await b.core.store.audit.list(0, 10_000)).length).toBe(before);
    b.clock.advance(61);
    await b.request('/token', form(bogus(99), '198.51.100.1'));
    await new Promise((r) => setTimeout(r, 0));
    await b.core.store.flush();
    const records = (await b.core.store.audit.list(0, 10_000)).slice(before);
    expect(records.map((r) => r.type)).toEqual(['token.refused.aggregate']);
    expect(records[0]!.data).toMatchObject({ error: 'invalid_client', source: '203.0.113.7', count: 50 });
    expect(JSON.stringify(records[0]).length).toBeLessThan(2_000);
    expect((await (await b.admin('/v1/audit/verify')).json()) as any).toMatchObject({ ok: true });
  });

  it('an authenticated client’s refusal is still recorded on its own, truncated', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const res = await agent.token({ grant_type: 'client_credentials', authorization_details: '[{"type":"stint_task","template":"nope","environment":"staging","purpose":"p"}]' });
    expect(res.status).toBe(400);
    const all = await b.core.store.audit.list(0, 10_000);
    expect(all.some((r) => r.type === 'token.refused.aggregate')).toBe(false);
  });
});

describe('rate limiting per source', () => {
  it('/token answers 429 too_many_requests with Retry-After (RFC 6749 body) once a source spends its burst; others are unaffected; it refills', async () => {
    const b = await testBroker({ rateLimit: { burst: 5, perSecond: 1 } });
    for (let i = 0; i < 5; i++) expect((await b.request('/token', form({ grant_type: 'client_credentials' }))).status).toBe(401);
    const limited = await b.request('/token', form({ grant_type: 'client_credentials' }));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('1');
    expect(await limited.json()).toMatchObject({ error: 'too_many_requests', error_description: expect.any(String) });
    expect((await b.request('/bc-authorize', form({}))).status).toBe(429);
    expect((await b.request('/token', form({ grant_type: 'client_credentials' }, '198.51.100.9'))).status).toBe(401);
    b.clock.advance(1);
    expect((await b.request('/token', form({ grant_type: 'client_credentials' }))).status).toBe(401);
    // Operator and discovery routes are not limited.
    expect((await b.request('/.well-known/oauth-authorization-server', { headers: { 'CF-Connecting-IP': '203.0.113.7' } })).status).toBe(200);
  });

  it('the approval service answers 429 as an RFC 9457 problem', async () => {
    const { createNodeApprovals } = await import('../src/runtime/node/wire.js');
    const { defaultPolicy } = await import('./helpers/policy.js');
    const { FrozenClock } = await import('./helpers/clock.js');
    const a = await createNodeApprovals({
      dbPath: ':memory:', policy: defaultPolicy(), issuer: ISSUER, selfUrl: 'http://localhost:8788', brokerUrl: ISSUER, adminToken: 'approval-admin-token-0123456789',
      masterKey: new Uint8Array(32).fill(2), clock: new FrozenClock(), rateLimit: { burst: 2, perSecond: 1 },
    });
    const get = () => a.app.request('http://localhost:8788/v1/approvals', { headers: { 'CF-Connecting-IP': '203.0.113.7' } });
    expect((await get()).status).toBe(401);
    expect((await get()).status).toBe(401);
    const res = await get();
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(((await res.json()) as any).error).toBe('too_many_requests');
  });

  it('settings: STINT_RATE_LIMIT parses, and IPv6 sources count per /64', () => {
    expect(parseRateLimit(undefined)).toEqual({ burst: 600, perSecond: 300 });
    expect(parseRateLimit('off')).toBe(false);
    expect(parseRateLimit('10/2')).toEqual({ burst: 10, perSecond: 2 });
    expect(() => parseRateLimit('fast')).toThrow(/STINT_RATE_LIMIT/);
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe(sourceKey('2001:db8:1:2:bbbb::9'));
    expect(sourceKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});
