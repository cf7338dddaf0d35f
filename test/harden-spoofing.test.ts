// Issue 12 finding 3: approval screen spoofing. Agent-controlled text holds no control or
// bidirectional characters (400 invalid_request), and every rendering escapes what is not
// printable; `approve` shows the request before it signs.
import { describe, expect, it } from 'vitest';
import { renderApproval } from '../src/cli/render.js';
import { ApproverClient } from '../src/client/approver.js';
import { isSafeText, printable } from '../src/core/text.js';
import { ISSUER, testBroker } from './helpers/broker.js';
import { APPROVALS, testStack } from './helpers/stack.js';

const SPOOF = 'rotate creds\u001b[2K\r  action:   db.read on https://api.staging.example/db';
const BIDI = ['\u202e', '\u202a', '\u2066', '\u2069', '\u200e', '\u200f', '\u061c', '\u0085', '\u0007', '\u007f'];

const taskDetails = (purpose: string) => JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose }]);

describe('agent-controlled text is refused at the edge', () => {
  it('a purpose with an escape sequence or any bidi/control character: 400 invalid_request, no task opened', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    for (const bad of [SPOOF, ...BIDI.map((ch) => `rotate ${ch}creds`)]) {
      const res = await agent.token({ grant_type: 'client_credentials', authorization_details: taskDetails(bad) });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.task_id).toBeUndefined();
    }
    // Raw (not JSON-escaped) in a form value too.
    const raw = await agent.token({ grant_type: 'client_credentials', authorization_details: `[{"type":"stint_task","template":"fix-credentials","environment":"staging","purpose":"a\u001bb"}]` });
    expect(raw.body.error).toBe('invalid_request');
    // A plain purpose, with non-ASCII letters, still opens a task.
    const ok = await agent.token({ grant_type: 'client_credentials', authorization_details: taskDetails('réparer les identifiants — 修复') });
    expect(ok.status).toBe(200);
  });

  it('agent name and owner at registration, and signal detail: RFC 9457 invalid_request', async () => {
    const b = await testBroker();
    for (const body of [
      { name: 'coder\u202e1', owner: 'alice', jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x' }] } },
      { name: 'coder', owner: 'al\u001bice', jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x' }] } },
    ]) {
      const res = await b.admin('/v1/agents', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(((await res.json()) as any).error).toBe('invalid_request');
    }
    const r = await b.admin('/v1/resources', { name: 'vol\u2066umes', audience: 'https://api.staging.example/volumes' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error).toBe('invalid_request');
    const sig = await b.admin('/v1/signals', { type: 'tool_error', task_id: 'task_0123456789ab', detail: 'boom\u001b[31m' });
    expect(sig.status).toBe(400);
    expect(((await sig.json()) as any).error).toBe('invalid_request');
  });

  it('a binding_message with a bidi override at /bc-authorize: 400 invalid_request, no approval opened', async () => {
    const s = await testStack();
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    const { assertion, dpopProof } = await import('./helpers/agent.js');
    const body = new URLSearchParams({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(agent.key, agent.clientId, ISSUER, { nowSec: s.nowSec() }),
      subject_token: t.body.access_token,
      scope: 'volume.delete',
      binding_message: 'ok \u202eteled',
    });
    const r = await s.broker.request('/bc-authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(await agent.dpopKey(), 'POST', `${ISSUER}/bc-authorize`, { nowSec: s.nowSec() }) },
      body,
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error).toBe('invalid_request');
    const bob = await s.approver('bob');
    expect((await bob.call('GET', '/v1/approvals?status=pending')).body.approvals).toHaveLength(0);
  });

  it('the approval service refuses the same in an approver name', async () => {
    const s = await testStack();
    await expect(s.approver('bob\u202e')).rejects.toThrow(/400/);
  });
});

describe('renderings escape what is not printable', () => {
  it('printable() shows controls, bidi and zero-width characters as escapes and keeps letters', () => {
    expect(printable('a\u001b[2Kb')).toBe('a\\u{1b}[2Kb');
    expect(printable('x\u202ey\u2066z\u200b')).toBe('x\\u{202e}y\\u{2066}z\\u{200b}');
    expect(printable('réparer 修复')).toBe('réparer 修复');
    expect(isSafeText(SPOOF)).toBe(false);
    expect(isSafeText('plain — text')).toBe(true);
  });

  it('the approver view of a stored request shows no raw control character, and the action line is the real one', () => {
    const out = renderApproval({
      id: 'areq_1',
      status: 'pending',
      action: { capability: 'volume.delete', resource: 'https://api.production.example/volumes', environment: 'production' },
      agent: { name: 'ops\u202ebot', client_id: 'agent_1', owner: 'alice' },
      task: { id: 'task_1', template: 'ops-maintenance', purpose: SPOOF, trajectory: [{ at: 'now', kind: 'refusal', detail: { type: 'x', reason: 'r\u001b]0;t\u0007' } }] },
      rule: { quorum: 2, groups: ['sre'], allow_owner: false },
      approvals: [],
      binding_message: 'm\u0085',
      expires_at: 'later',
      digest: 'd',
    });
    expect(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(out.replace(/\n/g, ''))).toBe(false);
    const actionLines = out.split('\n').filter((l) => l.trimStart().startsWith('action:'));
    expect(actionLines).toEqual(['  action:   volume.delete on https://api.production.example/volumes in production']);
  });

  it('approve shows the request before signing, and signs nothing when the review declines', async () => {
    const s = await testStack();
    const agent = await s.broker.registerAgent({ name: 'ops-bot', owner: 'alice', templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    const id = (await agent.exchange(t.body.access_token, { scope: 'volume.delete' })).body.auth_req_id as string;
    const { newKey } = await import('../src/client/proofs.js');
    const key = await newKey();
    const reg = await s.approvals.app.request(`${APPROVALS}/v1/approvers`, {
      method: 'POST',
      headers: { Authorization: `Bearer approval-admin-token-0123456789`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bob', groups: ['sre'], jwk: key.publicJwk }),
    });
    const { approver_id } = (await reg.json()) as any;
    const { exportJWK } = await import('jose');
    const realNow = Date.now;
    Date.now = () => s.clock.now();
    try {
      const client = new ApproverClient(APPROVALS, approver_id, { alg: key.alg as 'EdDSA', private_jwk: await exportJWK(key.privateKey) }, ((u: string, i?: RequestInit) => s.approvals.app.request(u, i)) as typeof fetch);
      const seen: any[] = [];
      const declined = await client.decide(id, 'approve', (a) => (seen.push(a), false));
      expect(declined.body.error).toBe('cancelled');
      expect(seen[0]).toMatchObject({ id, action: { capability: 'volume.delete', environment: 'production' }, agent: { name: 'ops-bot', owner: 'alice' } });
      expect((await client.show(id)).body.approvals).toHaveLength(0);
      const approved = await client.decide(id, 'approve', () => true);
      expect(approved.status).toBe(200);
      expect(approved.body.approvals).toHaveLength(1);
    } finally {
      Date.now = realNow;
    }
  });
});
