import { beforeEach, describe, expect, it } from 'vitest';
import { normaliseName } from '../src/core/approvals/approvers.js';
import { newKey } from './helpers/agent.js';
import type { AgentClient } from './helpers/broker.js';
import { APPROVAL_ADMIN, APPROVALS, testStack } from './helpers/stack.js';

// Issue 12, finding 9: one person cannot meet a quorum alone, and an owner is an owner whatever
// the case or form of their name. Approvers' keys are rotated or retired, never duplicated.
type Stack = Awaited<ReturnType<typeof testStack>>;
let s: Stack;
let agent: AgentClient;
let taskToken: string;
beforeEach(async () => {
  s = await testStack();
  agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
  taskToken = (await agent.openTask('ops-maintenance', 'production')).body.access_token;
});

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await s.approvals.app.request(`${APPROVALS}${path}`, {
    method,
    headers: { Authorization: `Bearer ${APPROVAL_ADMIN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
};
const ask = async () => (await agent.exchange(taskToken, { scope: 'volume.delete' })).body.auth_req_id as string;

describe('approver names', () => {
  it('normalise by NFKC and case folding', () => {
    expect(normaliseName('Bob')).toBe('bob');
    expect(normaliseName('ＢＯＢ')).toBe('bob'); // full-width
    expect(normaliseName('  Bob \t Smith ')).toBe('bob smith');
    expect(normaliseName('Straße')).toBe(normaliseName('STRASSE'));
    expect(normaliseName('ﬁona')).toBe('fiona'); // ligature
  });

  it('are unique once normalised: one person registered twice is refused with 409 conflict', async () => {
    await s.approver('bob');
    for (const name of ['bob', 'Bob', 'ＢＯＢ', ' bob ']) {
      const res = await admin('POST', '/v1/approvers', { name, groups: ['sre'], jwk: (await newKey()).publicJwk });
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('conflict');
    }
    expect((await admin('GET', '/v1/approvers')).body.approvers.map((a: any) => a.name)).toEqual(['bob']);
  });

  it('the owner rule compares normalised names: "Alice" and "ＡＬＩＣＥ" may not approve for owner "alice"', async () => {
    const id = await ask();
    const owner = await s.approver('ＡＬＩＣＥ');
    const res = await owner.decide(id, 'approve');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect(res.body.detail).toMatch(/owns the requesting agent/);
    const view = await (await s.approver('bob')).call('GET', `/v1/approvals/${id}`);
    expect(view.body).toMatchObject({ status: 'pending', approvals: [] });
  });
});

describe('approver keys', () => {
  it('a key already registered is refused (409), to the same or another approver', async () => {
    const key = await newKey();
    expect((await admin('POST', '/v1/approvers', { name: 'bob', groups: ['sre'], jwk: key.publicJwk })).status).toBe(201);
    const again = await admin('POST', '/v1/approvers', { name: 'robert', groups: ['sre'], jwk: key.publicJwk });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('conflict');
    expect((await admin('GET', '/v1/approvers')).body.approvers.map((a: any) => a.name)).toEqual(['bob']);
  });

  it('rotation: a new key replaces the old one, which stops authenticating at once', async () => {
    const bob = await s.approver('bob');
    const [old] = (await admin('GET', `/v1/approvers/${bob.id}/keys`)).body.keys;
    const fresh = await newKey();
    const added = await admin('POST', `/v1/approvers/${bob.id}/keys`, { jwk: fresh.publicJwk, replaces: old.kid });
    expect(added.status).toBe(201);
    expect(added.body.kid).toMatch(/^jwk\./);
    expect((await admin('GET', `/v1/approvers/${bob.id}/keys`)).body.keys.map((k: any) => k.kid)).toEqual([added.body.kid]);
    const stale = await bob.call('GET', '/v1/approvals');
    expect(stale.status).toBe(401);
    expect(stale.body.error).toBe('unauthorized');
    const rotated = s.approverClient(bob.id, fresh);
    expect((await rotated.call('GET', '/v1/approvals')).status).toBe(200);
    // Decisions are checked against the live keys too.
    const id = await ask();
    expect((await bob.call('GET', `/v1/approvals/${id}`)).status).toBe(401);
    expect((await rotated.decide(id, 'approve')).status).toBe(200);
    // The same key cannot come back by registering it again.
    const dup = await admin('POST', `/v1/approvers/${bob.id}/keys`, { jwk: fresh.publicJwk });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('conflict');
  });

  it('retirement: the key is dead; retiring it twice or someone else’s is 404', async () => {
    const bob = await s.approver('bob');
    const carol = await s.approver('carol');
    const [k] = (await admin('GET', `/v1/approvers/${bob.id}/keys`)).body.keys;
    expect((await admin('DELETE', `/v1/approvers/${carol.id}/keys/${k.kid}`)).status).toBe(404);
    expect((await admin('DELETE', `/v1/approvers/${bob.id}/keys/${k.kid}`)).status).toBe(204);
    const again = await admin('DELETE', `/v1/approvers/${bob.id}/keys/${k.kid}`);
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('not_found');
    expect((await bob.call('GET', '/v1/approvals')).status).toBe(401);
    expect((await carol.call('GET', '/v1/approvals')).status).toBe(200);
  });

  it('the key API is the approval admin’s alone', async () => {
    const bob = await s.approver('bob');
    const res = await s.approvals.app.request(`${APPROVALS}/v1/approvers/${bob.id}/keys`, { method: 'POST', headers: { Authorization: `Bearer ${s.ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ jwk: (await newKey()).publicJwk }) });
    expect(res.status).toBe(401);
  });
});
