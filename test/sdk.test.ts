import { describe, expect, it } from 'vitest';
import { generateAgentKey, StintAgent, StintAgentError } from '../src/sdk/index.js';
import { ISSUER } from './helpers/broker.js';
import { testStack } from './helpers/stack.js';

// @stint/agent against the broker and approval service in process, on a frozen clock.
async function setup(onSleep: (ms: number, n: number) => Promise<void> = async () => {}) {
  const s = await testStack();
  const key = await generateAgentKey();
  const reg = await s.broker.admin('/v1/agents', { name: 'ops-bot', owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['ops-maintenance', 'fix-credentials'] });
  const { client_id } = (await reg.json()) as { client_id: string };
  const sleeps: number[] = [];
  const agent = new StintAgent({
    issuer: ISSUER,
    clientId: client_id,
    key,
    fetch: (async (url: string | URL | Request, init?: RequestInit) => s.broker.app.request(url as string, init)) as typeof fetch,
    now: () => s.clock.now(),
    sleep: async (ms) => {
      sleeps.push(ms);
      s.clock.advance(ms / 1000);
      await onSleep(ms, sleeps.length);
    },
  });
  return { s, agent, sleeps };
}

describe('@stint/agent', () => {
  it('waits for a destructive capability’s approval at the announced interval, then holds the grant', async () => {
    let approve: (() => Promise<void>) | undefined;
    const { s, agent, sleeps } = await setup(async (_ms, n) => {
      if (n === 2) await approve!();
    });
    const [bob, carol] = [await s.approver('bob'), await s.approver('carol')];
    const task = await agent.openTask({ template: 'ops-maintenance', environment: 'production', purpose: 'reclaim the old analytics volume' });
    approve = async () => {
      const { body } = await bob.call('GET', '/v1/approvals?status=pending');
      const id = body.approvals[0].id as string;
      expect((await bob.decide(id, 'approve')).status).toBe(200);
      expect((await carol.decide(id, 'approve')).status).toBe(200);
    };
    const cap = await task.capability({ scope: 'volume.delete' }, { waitForApproval: true });
    expect(cap.accessToken).toBeTruthy();
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
    expect(sleeps[0]).toBe(5_000); // the interval the broker announced
    for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(5_000);
    // Without waiting, the refusal carries its code.
    const refused = await task.capability({ scope: 'volume.delete' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StintAgentError);
    expect((refused as StintAgentError).code).toBe('approval_required');
  });

  it('reuses a capability until shortly before it expires, then renews it; completion ends the task', async () => {
    const { s, agent } = await setup();
    const task = await agent.openTask({ template: 'fix-credentials', environment: 'staging', purpose: 'rotate the staging DB password' });
    const a = await task.token({ scope: 'config.read' });
    const b = await task.token({ scope: ['config.read'] });
    expect(b.accessToken).toBe(a.accessToken);
    s.clock.advance((a.expiresAt - s.clock.now()) / 1000 - 10); // inside the 30 s refresh window
    const c = await task.token({ scope: 'config.read' });
    expect(c.accessToken).not.toBe(a.accessToken);
    expect((await task.status()).status).toBe('active');
    expect((await task.complete()).status).toBe('completed');
    const after = await task.capability({ scope: 'config.read' }).catch((e: unknown) => e);
    expect((after as StintAgentError).code).toBe('invalid_grant');
  });
});
