// Issue 23 item 5 and issue 21 item 7: an address is charged only for failures before
// authentication; authenticated traffic is limited per client, and the report paths per task
// and per reporting service; every 429 carries Retry-After.
import { describe, expect, it } from 'vitest';
import { dpopProof } from '../src/client/proofs.js';
import { ISSUER, testBroker, type AgentClient, type TestBroker } from './helpers/broker.js';

const ADDR = '203.0.113.7';
const junk = (b: TestBroker, source = ADDR) =>
  b.request('/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': source, DPoP: 'x.y.z' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'nobody', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'not.a.jwt' }),
  });

/** The agent's token requests, from a given address (the test broker reads CF-Connecting-IP without a socket). */
async function fromAddress(b: TestBroker, agent: AgentClient, source = ADDR) {
  const original = b.app.request.bind(b.app);
  b.app.request = ((input: string, init: RequestInit = {}) => original(input, { ...init, headers: { ...(init.headers as Record<string, string>), 'CF-Connecting-IP': source } })) as typeof b.app.request;
  try {
    return await agent.openTask();
  } finally {
    b.app.request = original as typeof b.app.request;
  }
}

describe('rate limits: per address for failures before authentication only', () => {
  it('an honest agent sharing an address with a junk sender keeps working; successes spend nothing', async () => {
    const b = await testBroker({ rateLimit: { burst: 5, perSecond: 1, clients: { burst: 100, perSecond: 50 } } });
    const agent = await b.registerAgent();
    // Thirty successes from one address: far past the address's budget of 5, none refused.
    for (let i = 0; i < 30; i++) expect((await fromAddress(b, agent)).status).toBe(200);
    // A junk sender at the same address: its failures are heard (the address is vouched for by
    // the agent's success) up to ten times the budget, then refused unread, with Retry-After.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await junk(b)).status);
    expect(statuses.slice(0, 50).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(50).every((s) => s === 429)).toBe(true);
    const limited = await junk(b);
    expect(limited.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(((await limited.json()) as { error: string }).error).toBe('too_many_requests');
    // Interleaved, the agent had been fine throughout; an address nobody vouched for gets 5.
    const other = [];
    for (let i = 0; i < 7; i++) other.push((await junk(b, '198.51.100.20')).status);
    expect(other).toEqual([401, 401, 401, 401, 401, 429, 429]);
    await b.close();
  });

  it('the honest agent is not refused while the junk sender is under the ceiling', async () => {
    const b = await testBroker({ rateLimit: { burst: 5, perSecond: 1, clients: { burst: 100, perSecond: 50 } } });
    const agent = await b.registerAgent();
    expect((await fromAddress(b, agent)).status).toBe(200);
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) {
      expect((await junk(b)).status).toBe(401);
      seen.push((await fromAddress(b, agent)).status);
    }
    expect(seen.filter((s) => s !== 200)).toEqual([]);
    await b.close();
  });

  it('/v1/events: wrong Basic credentials spend the address budget; past it, refused unread with Retry-After', async () => {
    const b = await testBroker({ rateLimit: { burst: 3, perSecond: 1, clients: { burst: 100, perSecond: 50 } } });
    const guess = () => b.request('/v1/events', { headers: { Authorization: `Basic ${btoa('rs_nobody:guess')}`, 'CF-Connecting-IP': ADDR } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guess()).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await guess();
    expect(limited.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(((await limited.json()) as { error: string }).error).toBe('too_many_requests');
    await b.close();
  });
});

describe('rate limits: per authenticated client', () => {
  it('a client past its budget gets 429 with Retry-After; another client at the same address does not', async () => {
    const b = await testBroker({ rateLimit: { burst: 50, perSecond: 1, clients: { burst: 3, perSecond: 1 } } });
    const a = await b.registerAgent({ name: 'a' });
    const other = await b.registerAgent({ name: 'b' });
    for (let i = 0; i < 3; i++) expect((await a.openTask()).status).toBe(200);
    const r = await a.openTask();
    expect(r.status).toBe(429);
    expect(r.body.error).toBe('too_many_requests');
    expect(r.headers?.get('Retry-After')).toBe('1');
    expect((await other.openTask()).status).toBe(200);
    b.clock.advance(1);
    expect((await a.openTask()).status).toBe(200);
    // The limit's refusals are not appended to the audit log one by one.
    expect((await b.core.store.audit.list(0, 10_000)).filter((x) => x.type === 'token.refused')).toEqual([]);
    await b.close();
  });
});

describe('rate limits: the report paths, per task and per reporting service', () => {
  const evaluation = (agentId: string, taskId: string, i: number) => ({
    subject: { type: 'agent', id: agentId, properties: { task_id: taskId } },
    action: { name: 'tool_call', properties: { stage: 'post', tool: 'Bash', credentials: [], exposed: [], calls: [], call_hash: i.toString(16).padStart(32, '0') } },
    resource: { type: 'tool', id: 'Bash' },
    context: {},
  });

  it('AuthZEN evaluations: a task past its budget gets 429 with Retry-After; another task does not', async () => {
    const b = await testBroker({ rateLimit: { burst: 100, perSecond: 10, reports: { burst: 4, perSecond: 1 } } });
    const agent = await b.registerAgent();
    const key = await agent.dpopKey();
    const post = async (token: string, taskId: string, i: number) => {
      const proof = await dpopProof(key, 'POST', `${ISSUER}/access/v1/evaluation`, { nowSec: b.nowSec(), accessToken: token });
      return b.request('/access/v1/evaluation', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `DPoP ${token}`, DPoP: proof }, body: JSON.stringify(evaluation(agent.clientId, taskId, i)) });
    };
    const t1 = (await agent.openTask()).body;
    const t2 = (await agent.openTask()).body;
    for (let i = 0; i < 4; i++) expect((await post(t1.access_token, t1.task_id, i)).status).toBe(200);
    const before = (await b.core.store.audit.list(0, 100_000)).length;
    const limited = await post(t1.access_token, t1.task_id, 99);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('1');
    expect(((await limited.json()) as { error: string }).error).toBe('too_many_requests');
    await b.core.store.flush();
    expect((await b.core.store.audit.list(0, 100_000)).length).toBe(before); // nothing appended for it
    expect((await post(t2.access_token, t2.task_id, 1)).status).toBe(200);
    await b.close();
  });

  it('/v1/signals: a resource service past its budget gets 429 with Retry-After', async () => {
    const b = await testBroker({ rateLimit: { burst: 100, perSecond: 10, reports: { burst: 2, perSecond: 1 } } });
    const rs = (await (await b.admin('/v1/resources', { name: 'config', audience: 'https://api.staging.example/config' })).json()) as { client_id: string; client_secret: string };
    const signal = () =>
      b.request('/v1/signals', {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'tool_error', detail: 'x' }),
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await signal()).status);
    expect(statuses[2]).toBe(429);
    expect(statuses.slice(0, 2).every((s) => s !== 429)).toBe(true);
    await b.close();
  });
});
