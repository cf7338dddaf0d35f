import { describe, expect, it } from 'vitest';
import { awsProvider } from '../src/core/providers/aws/provider.js';
import { startProviderRevocation } from '../src/core/providers/registry.js';
import type { AgentRecord, TaskRecord } from '../src/core/ports.js';
import { revokeTask } from '../src/core/tasks.js';
import { memoryCore } from './helpers/core.js';
import { memoryIam } from './helpers/memory-iam.js';

// The role's one deny policy, kept right by one queue per role: serialised, coalesced,
// recomputed before each attempt, read back after each put; old per-task policies removed.
const ROLE = 'arn:aws:iam::123456789012:role/ops/reader';
const agent: AgentRecord = { id: 'agt_1', name: 'a', owner: 'o', jwks: [], templates: ['fix-credentials'], status: 'active', createdAt: 0 };
const task = (id: string): TaskRecord => ({ id, agentId: 'agt_1', template: 'fix-credentials', environment: 'staging', purpose: 'p', jkt: 'k', status: 'active', statusReason: null, createdAt: 0, expiresAt: Date.UTC(2100, 0, 1) });
const denied = (doc: string | undefined): string[] => (doc ? (JSON.parse(doc).Statement.find((s: { Sid: string }) => s.Sid === 'StintEndedTasks')?.Condition.StringEquals['aws:PrincipalTag/stint-task'] ?? []) : []);

async function setup(seed?: Record<string, Record<string, string>>) {
  const iam = memoryIam(seed);
  const provider = awsProvider(iam.api, { retryDelaysMs: [0, 0, 0] });
  const { core, store, clock } = await memoryCore({ providers: [provider] });
  await store.agents.create(agent);
  const failures: string[] = [];
  startProviderRevocation(core, (m) => failures.push(m));
  const live = async (id: string) => {
    await store.tasks.create(task(id));
    await store.providerSessions.add({ taskId: id, provider: 'aws', target: ROLE, expiresAt: clock.now() + 900_000 });
  };
  const audit = async (type: string) => (await store.audit.list(0, 10_000)).filter((r) => r.type === type);
  return { iam, provider, core, store, failures, live, audit, end: (id: string) => revokeTask(core, id, 'operator', 'test') };
}

describe('AWS deny-policy rewrites', () => {
  it('revoke A then B with a transient 503 on the first put: the role ends denying both, the failed attempt audited', async () => {
    const s = await setup();
    await s.live('tsk_a');
    await s.live('tsk_b');
    const gate = s.iam.hold();
    s.iam.failNext(1, 503);
    await s.end('tsk_a');
    await gate.reached; // A's first put is at IAM
    await s.end('tsk_b');
    gate.open();
    await s.provider.idle();
    expect(denied(s.iam.policy('reader')).sort()).toEqual(['tsk_a', 'tsk_b']);
    // Every document that reached IAM after B ended names B (none was computed before and sent after).
    for (const p of s.iam.puts) expect(denied(p.policyDocument)).toContain('tsk_b');
    expect(await s.audit('aws.sessions.deny_failed')).toMatchObject([{ data: { role: ROLE, attempt: 1, error: 'ServiceUnavailable (503)' } }]);
    expect(s.failures).toEqual([]);
  });

  it('requests that arrive while a pass waits its turn join it: one pass for many', async () => {
    const s = await setup();
    for (const id of ['tsk_1', 'tsk_2', 'tsk_3', 'tsk_4']) await s.live(id);
    const gate = s.iam.hold();
    await s.end('tsk_1');
    await gate.reached;
    await s.end('tsk_2');
    await s.end('tsk_3');
    await s.end('tsk_4');
    gate.open();
    await s.provider.idle();
    // tsk_1's pass (its read-back finds three more ended: a second round), then one pass for the three that waited.
    expect((await s.audit('aws.sessions.denied')).map((r) => r.data.for)).toEqual(['tsk_1', ['tsk_2', 'tsk_3', 'tsk_4']]);
    expect(s.iam.puts.length).toBeLessThanOrEqual(3);
    expect(denied(s.iam.policy('reader')).sort()).toEqual(['tsk_1', 'tsk_2', 'tsk_3', 'tsk_4']);
  });

  it('a put overwritten by another writer before the read-back is put again; one that never settles is a revocation failure', async () => {
    const s = await setup();
    await s.live('tsk_a');
    const put = s.iam.api.putRolePolicy.bind(s.iam.api);
    let overwrites = 1;
    s.iam.api.putRolePolicy = async (i) => {
      await put(i);
      // Another broker's older document lands right after ours.
      if (overwrites-- > 0) await put({ ...i, policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    };
    await s.end('tsk_a');
    await s.provider.idle();
    expect(denied(s.iam.policy('reader'))).toEqual(['tsk_a']);
    expect((await s.audit('aws.sessions.denied')).at(-1)).toMatchObject({ data: { rounds: 2 } });

    overwrites = Number.POSITIVE_INFINITY;
    await s.live('tsk_b');
    await s.end('tsk_b');
    await s.provider.idle();
    await expect.poll(async () => (await s.audit('provider.revocation_failed')).length).toBe(1);
    expect(s.failures[0]).toMatch(/did not settle/);
  });

  it('a failure that is not transient is not retried', async () => {
    const s = await setup();
    await s.live('tsk_a');
    s.iam.failNext(5, 403);
    await s.end('tsk_a');
    await s.provider.idle();
    expect(await s.audit('aws.sessions.deny_failed')).toHaveLength(1);
    await expect.poll(async () => (await s.audit('provider.revocation_failed')).length).toBe(1);
  });

  it('the per-task policies of earlier versions are removed once the one policy holds; others are left alone', async () => {
    const s = await setup({ reader: { 'stint-revoked-tsk_old': '{}', 'stint-revoked-agent-agt_9-17': '{}', 'team-policy': '{}' } });
    await s.live('tsk_a');
    await s.end('tsk_a');
    await s.provider.idle();
    expect(s.iam.names('reader').sort()).toEqual(['stint-revocations', 'team-policy']);
    expect((await s.audit('aws.legacy_policies_removed'))[0]).toMatchObject({ data: { role: ROLE, policies: ['stint-revoked-tsk_old', 'stint-revoked-agent-agt_9-17'] } });
  });
});
