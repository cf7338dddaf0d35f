import { describe, expect, it } from 'vitest';
import { dpopProof } from '../../src/client/proofs.js';
import { ISSUER } from '../helpers/broker.js';
import { guardStack } from './helpers.js';

/** A plain JSON client of the AuthZEN endpoint: no guard code, just the wire format. */
async function client() {
  const s = await guardStack();
  const key = await s.agent.dpopKey();
  const nowSec = () => Math.floor(s.clock.now() / 1000);
  const post = async (path: string, body: unknown, o: { token?: string; proof?: boolean } = {}) => {
    const token = o.token ?? s.state.task_token;
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Authorization: `DPoP ${token}` };
    if (o.proof !== false) headers.DPoP = await dpopProof(key, 'POST', `${ISSUER}${path}`, { nowSec: nowSec(), accessToken: token });
    const res = await s.broker.app.request(`${ISSUER}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const request = (properties: Record<string, unknown>) => ({
    subject: { type: 'agent', id: s.agent.clientId, properties: { task_id: s.state.task_id } },
    action: { name: 'tool_call', properties: { stage: 'pre', tool: 'Bash', credentials: [], exposed: [], calls: [], call_hash: 'ab'.repeat(16), ...properties } },
    resource: { type: 'tool', id: 'Bash' },
    context: {},
  });
  return { s, post, request };
}

describe('OpenID AuthZEN decision endpoint', () => {
  it('publishes its discovery document', async () => {
    const { s } = await client();
    const res = await s.broker.app.request(`${ISSUER}/.well-known/authzen-configuration`);
    expect(await res.json()).toEqual({ policy_decision_point: ISSUER, access_evaluation_endpoint: `${ISSUER}/access/v1/evaluation`, access_evaluations_endpoint: `${ISSUER}/access/v1/evaluations` });
  });

  it('allows a benign call: {decision:true}', async () => {
    const { post, request } = await client();
    const r = await post('/access/v1/evaluation', request({ calls: [{ type: 'command', argv: ['npm', 'test'] }], summary: 'npm test' }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ decision: true, context: { reason: 'allowed' } });
  });

  it('a new credential: {decision:false, context:{rule:"substitution", stopped:true}}, and the task is stopped', async () => {
    const { s, post, request } = await client();
    const r = await post('/access/v1/evaluation', request({ credentials: [{ kind: 'uuid_token:authorization', fingerprint: '0123456789abcdef', position: 'header' }] }));
    expect(r.body).toMatchObject({ decision: false, context: { rule: 'substitution', stopped: true } });
    expect((await s.task()).status).toBe('stopped');
    const after = await post('/access/v1/evaluation', request({}));
    expect(after.body).toMatchObject({ decision: false, context: { stopped: true } });
  });

  it('a destructive GraphQL mutation at Railway, environment unknown → production → environment_mismatch for a staging task', async () => {
    const { post, request } = await client();
    const r = await post('/access/v1/evaluation', request({ calls: [{ type: 'http', method: 'POST', host: 'backboard.railway.app', path: '/graphql/v2', graphql: { mutations: ['volumeDelete'], queries: [] } }] }));
    expect(r.body).toMatchObject({ decision: false, context: { rule: 'environment_mismatch', stopped: true } });
  });

  it('batch: /access/v1/evaluations answers each evaluation in order', async () => {
    const { post, request } = await client();
    const base = request({});
    const r = await post('/access/v1/evaluations', {
      subject: base.subject,
      resource: base.resource,
      evaluations: [
        { action: request({ calls: [{ type: 'command', argv: ['ls'] }] }).action },
        { action: request({ uncertain: 'a shell syntax error' }).action },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.evaluations.map((e: any) => e.decision)).toEqual([true, false]);
    expect(r.body.evaluations[1].context.reason).toMatch(/cannot tell/);
  });

  it('authenticates with the task token and a DPoP proof; the subject must be the token’s agent', async () => {
    const { s, post, request } = await client();
    const other = await post('/access/v1/evaluation', { ...request({}), subject: { type: 'agent', id: 'agt_someone_else' } });
    expect(other.status).toBe(403);
    const bad = await post('/access/v1/evaluation', { ...request({}), action: { name: 'tool_call', properties: { stage: 'pre', tool: 'Bash', call_hash: 'x' } } });
    expect(bad.status).toBe(400);
    // nothing secret is accepted: a credential must be a fingerprint, not a value
    const value = await post('/access/v1/evaluation', request({ credentials: [{ kind: 'github_token', fingerprint: 'ghp_notahexfingerprint', position: 'header' }] }));
    expect(value.status).toBe(400);
    expect((await s.task()).status).toBe('active');
    // Without a proof of its key the task token is a leaked one: refused, and revoked with its task.
    expect((await post('/access/v1/evaluation', request({}), { proof: false })).status).toBe(401);
    expect((await s.task()).status).toBe('revoked');
  });
});
