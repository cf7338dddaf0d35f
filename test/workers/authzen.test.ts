import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { dpopProof } from '../../src/client/proofs.js';
import { ISSUER, openTask } from './open-task.js';

// The AuthZEN decision endpoint of the broker Worker, driven by a plain JSON client inside workerd.
const now = () => Math.floor(Date.now() / 1000);

describe('AuthZEN on the broker Worker', () => {
  it('discovery, a benign call allowed, a new credential stopping the task', async () => {
    const disc = (await (await SELF.fetch(`${ISSUER}/.well-known/authzen-configuration`)).json()) as any;
    expect(disc.access_evaluation_endpoint).toBe(`${ISSUER}/access/v1/evaluation`);

    const opened = await openTask('authzen-agent');
    const { client_id, dpop } = opened;
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
