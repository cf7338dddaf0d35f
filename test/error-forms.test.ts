import { describe, expect, it } from 'vitest';
import { ADMIN, testBroker } from './helpers/broker.js';

// The error form is chosen per route group (broker-app.ts: oauthGroup(...)), and follows the
// route asked for even when an app-wide middleware refuses before the handler runs.
describe('error forms by route group', () => {
  it('OAuth endpoints answer RFC 6749 bodies, the management API RFC 9457 problems, for the same refusal', async () => {
    const b = await testBroker();
    const big = 'x'.repeat(70 * 1024);
    const token = await b.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `grant_type=${big}` });
    expect(token.status).toBe(413);
    expect(token.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(await token.json()).toMatchObject({ error: 'payload_too_large', error_description: expect.any(String) });

    const agents = await b.request('/v1/agents', { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: big }) });
    expect(agents.status).toBe(413);
    expect(agents.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    expect(await agents.json()).toMatchObject({ type: 'urn:stint:problem:payload_too_large', status: 413 });

    const introspect = await b.request('/introspect', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    expect(introspect.status).toBe(401);
    expect(await introspect.json()).toMatchObject({ error: 'invalid_client' });
  });
});
