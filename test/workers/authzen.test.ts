import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { assertion, dpopProof, newKey } from '../../src/client/proofs.js';
import { ADMIN, ISSUER, admin } from './open-task.js';

// The AuthZEN decision endpoint of the broker Worker, driven by a plain JSON client inside workerd.
const now = () => Math.floor(Date.now() / 1000);
void ADMIN;

describe('AuthZEN on the broker Worker', () => {
  it('discovery, a benign call allowed, a new credential stopping the task', async () => {
    const disc = (await (await SELF.fetch(`${ISSUER}/.well-known/authzen-configuration`)).json()) as any;
    expect(disc.access_evaluation_endpoint).toBe(`${ISSUER}/access/v1/evaluation`);

    const key = await newKey();
    const dpop = await newKey();
    const { client_id } = (await (await admin('/v1/agents', { name: 'authzen-agent', owner: 'o', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] })).json()) as { client_id: string };
    const opened = (await (
      await SELF.fetch(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(dpop, 'POST', `${ISSUER}/token`, { nowSec: now() }) },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(key, client_id, ISSUER, { nowSec: now() }),
          authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'authzen' }]),
        }),
      })
    ).json()) as { access_token: string; task_id: string };
    const evaluate = async (properties: Record<string, unknown>) => {
      const path = '/access/v1/evaluation';
      const res = await SELF.fetch(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `DPoP ${opened.access_token}`, DPoP: await dpopProof(dpop, 'POST', `${ISSUER}${path}`, { nowSec: now(), accessToken: opened.access_token }) },
        body: JSON.stringify({
          subject: { type: 'agent', id: client_id, properties: { task_id: opened.task_id } },
          action: { name: 'tool_call', properties: { stage: 'pre', tool: 'Bash', credentials: [], exposed: [], calls: [], call_hash: 'cd'.repeat(16), ...properties } },
          resource: { type: 'tool', id: 'Bash' },
        }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    expect((await evaluate({ calls: [{ type: 'command', argv: ['git', 'status'] }] })).body).toMatchObject({ decision: true });
    const stop = await evaluate({ credentials: [{ kind: 'github_token', fingerprint: 'fedcba9876543210', position: 'header' }] });
    expect(stop.body).toMatchObject({ decision: false, context: { rule: 'substitution', stopped: true } });
  });
});
