import { describe, expect, it } from 'vitest';
import type { ApprovalGateway } from '../src/core/approval-gateway.js';
import { startApprovalVoiding } from '../src/core/approval-voiding.js';
import type { VoidScope } from '../src/core/approvals/void.js';
import { awsProvider } from '../src/core/providers/aws/provider.js';
import { memoryIam } from './helpers/memory-iam.js';
import { startProviderRevocation } from '../src/core/providers/registry.js';
import type { VerifierEvent } from '../src/core/events.js';
import type { AgentRecord, TaskRecord } from '../src/core/ports.js';
import { revokeScope } from '../src/core/revocation.js';
import { agentScope, allScope, environmentScope } from '../src/core/scope.js';
import { stopTask } from '../src/core/stop.js';
import { currentTask } from '../src/core/token-state.js';
import { storeSecret } from '../src/core/vault.js';
import { memoryCore } from './helpers/core.js';
import { defaultPolicy } from './helpers/policy.js';

// Core operations on the in-memory reference store: no native module, no HTTP.
const agent = (id: string): AgentRecord => ({ id, name: id, owner: 'o', jwks: [], templates: ['fix-credentials'], status: 'active', createdAt: 0 });
const task = (id: string, over: Partial<TaskRecord>): TaskRecord => ({
  id,
  agentId: 'agt_1',
  template: 'fix-credentials',
  environment: 'staging',
  purpose: 'p',
  jkt: 'k',
  status: 'active',
  statusReason: null,
  createdAt: 0,
  expiresAt: Number.MAX_SAFE_INTEGER,
  ...over,
});

describe('core on the in-memory store', () => {
  it('revokes a scope under the key the database and the wire have always used, audited and pushed', async () => {
    const { core, store, clock } = await memoryCore();
    await store.agents.create(agent('agt_1'));
    const pushed: VerifierEvent[] = [];
    core.events.subscribe((e) => pushed.push(e));
    const epoch = clock.now();
    expect(await revokeScope(core, agentScope('agt_1'), 'operator')).toEqual({
      scope: 'agent:agt_1',
      epoch: new Date(epoch).toISOString(),
      revoked_issued_at_or_before: Math.floor(epoch / 1000),
    });
    expect(await store.revocations.epochOf([agentScope('agt_1')])).toBe(epoch);
    expect(await store.revocations.epochOf([agentScope('agt_2'), environmentScope('staging')])).toBe(0);
    expect(await store.audit.last()).toMatchObject({ type: 'scope.revoked', actor: 'operator', data: { scope: 'agent:agt_1', epoch } });
    expect(pushed).toMatchObject([{ type: 'scope.revoked', scope: 'agent:agt_1', epoch }]);
    expect((await revokeScope(core, environmentScope('production'), 'operator')).scope).toBe('env:production');
    expect((await revokeScope(core, allScope, 'operator')).scope).toBe('all');
  });

  it('refuses to revoke an unknown agent or environment, with not_found, and writes nothing', async () => {
    const { core, store } = await memoryCore();
    await expect(revokeScope(core, agentScope('agt_nope'), 'operator')).rejects.toMatchObject({ code: 'not_found' });
    await expect(revokeScope(core, environmentScope('mars'), 'operator')).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.revocations.epochOf([agentScope('agt_nope'), environmentScope('mars')])).toBe(0);
    expect(await store.audit.last()).toBeUndefined();
  });

  it('a scope revocation ends the tasks it covers on first sight, and only those', async () => {
    const { core, store, clock } = await memoryCore();
    const opened = clock.now();
    await store.tasks.create(task('t_staging', { createdAt: opened }));
    await store.tasks.create(task('t_prod', { environment: 'production', createdAt: opened }));
    clock.advance(10);
    const epoch = clock.now();
    await revokeScope(core, environmentScope('staging'), 'operator');
    // Opened in the next second: after the revocation, so not covered by it.
    await store.tasks.create(task('t_later', { createdAt: epoch + 1000 }));
    expect(await currentTask(core, 't_staging')).toMatchObject({ status: 'revoked', statusReason: 'revoked with its agent or environment' });
    expect((await currentTask(core, 't_prod'))?.status).toBe('active');
    expect((await currentTask(core, 't_later'))?.status).toBe('active');
  });

  it('approval voiding reads the scope back from the pushed event, and ignores a key that is no scope', async () => {
    const voided: VoidScope[] = [];
    const approvals = { void: async (s: VoidScope) => void voided.push(s) } as unknown as ApprovalGateway;
    const { core, store, clock } = await memoryCore({ approvals });
    await store.agents.create(agent('agt_1'));
    const tracked: Promise<unknown>[] = [];
    const stop = startApprovalVoiding(core, (m) => { throw new Error(m); }, (p) => tracked.push(p));
    const before = clock.now();
    await revokeScope(core, environmentScope('staging'), 'operator');
    await revokeScope(core, agentScope('agt_1'), 'operator');
    await revokeScope(core, allScope, 'operator');
    await core.audit.append({ type: 'scope.revoked', actor: 'x', data: { scope: 'agent:', epoch: before } });
    await Promise.all(tracked);
    stop();
    expect(voided).toEqual([
      { environment: 'staging', before },
      { agent: 'agt_1', before },
      { all: true, before },
    ]);
  });

  it('a scope revocation denies live AWS sessions on the scope\'s own tag', async () => {
    const iam = memoryIam();
    const { puts } = iam;
    // The role's capability names the root credential the deny is written with (never the SDK's default chain).
    const policy = defaultPolicy();
    policy.capabilities['aws.ops.read'] = { name: 'aws.ops.read', risk: 'read', resources: { staging: 'arn:aws:iam::123456789012:role/ops/reader' }, provider: { type: 'aws', credentials: 'aws-root', session_policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] } } };
    const { core, store, clock } = await memoryCore({ providers: [awsProvider(iam.api)], policy });
    await storeSecret(core, 'aws-root', JSON.stringify({ access_key_id: 'AKIAROOT', secret_access_key: 'root-secret' }), 'operator');
    await store.agents.create(agent('agt_1'));
    await store.providerSessions.add({ taskId: 't1', provider: 'aws', target: 'arn:aws:iam::123456789012:role/ops/reader', expiresAt: clock.now() + 3600_000 });
    const tracked: Promise<unknown>[] = [];
    const stop = startProviderRevocation(core, (m) => { throw new Error(m); }, (p) => tracked.push(p));
    const sec = Math.floor(clock.now() / 1000);
    await revokeScope(core, agentScope('agt_1'), 'operator');
    await Promise.all(tracked);
    stop();
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ roleName: 'reader', policyName: 'stint-revocations', credentials: { accessKeyId: 'AKIAROOT', secretAccessKey: 'root-secret' } });
    expect(JSON.parse(puts[0]!.policyDocument).Statement.find((s: { Sid: string }) => s.Sid.startsWith('StintScope')).Condition).toEqual({
      DateLessThanEquals: { 'aws:TokenIssueTime': new Date(sec * 1000).toISOString() },
      StringEquals: { 'aws:PrincipalTag/stint-agent': 'agt_1' },
    });
  });

  it('a role no AWS capability names has no root credential to deny it with: the revocation fails loudly, and AWS is not called with the SDK default chain', async () => {
    const iam = memoryIam();
    const { puts } = iam;
    const { core, store, clock } = await memoryCore({ providers: [awsProvider(iam.api)] });
    await store.agents.create(agent('agt_1'));
    await store.providerSessions.add({ taskId: 't1', provider: 'aws', target: 'arn:aws:iam::123456789012:role/ops/reader', expiresAt: clock.now() + 3600_000 });
    const tracked: Promise<unknown>[] = [];
    const logged: string[] = [];
    const stop = startProviderRevocation(core, (m) => void logged.push(m), (p) => tracked.push(p));
    await revokeScope(core, agentScope('agt_1'), 'operator');
    await Promise.all(tracked);
    stop();
    expect(puts).toEqual([]);
    expect(logged.join('\n')).toMatch(/no AWS capability of the policy names arn:aws:iam::123456789012:role\/ops\/reader/);
    expect((await store.audit.list(0, 100)).map((r) => r.type)).toContain('provider.revocation_failed');
  });

  it('of many concurrent stops of one task, one wins: one stop record, the agent locked and its scope revoked once', async () => {
    const { core, store } = await memoryCore();
    await store.agents.create(agent('agt_1'));
    const t = task('t1', {});
    await store.tasks.create(t);
    const wins = await Promise.all(Array.from({ length: 20 }, () => stopTask(core, t, 'substitution', 'r', { actor: 'broker', lockAgent: true })));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const types = (await store.audit.list(0, 100)).map((r) => r.type);
    expect(types.filter((x) => x === 'task.stopped')).toHaveLength(1);
    expect(types.filter((x) => x === 'agent.locked')).toHaveLength(1);
    // The lock ends everything the agent holds: its scope, revoked once, under its key.
    const revoked = (await store.audit.list(0, 100)).filter((r) => r.type === 'scope.revoked');
    expect(revoked.map((r) => r.data.scope)).toEqual(['agent:agt_1']);
    expect(await store.revocations.epochOf([agentScope('agt_1')])).toBe(core.clock.now());
    expect((await store.agents.get('agt_1'))?.status).toBe('locked');
    expect((await store.tasks.get('t1'))?.statusReason).toBe('substitution: r');
  });
});
