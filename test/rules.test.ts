import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CapabilityFacts } from '../src/core/rules/facts.js';
import { DEFAULT_RULES, evaluate, shadowOnlyRuleNames, stopRuleNames } from '../src/core/rules/registry.js';
import { allow, stop, type Rule } from '../src/core/rules/types.js';
import { policyJsonSchema } from '../src/policy/schema.js';
import { compilePolicy } from '../src/policy/load.js';
import { dpopProof } from './helpers/agent.js';
import { testBroker } from './helpers/broker.js';
import { defaultPolicy, POLICIES_DIR } from './helpers/policy.js';
import { APPROVALS, testStack } from './helpers/stack.js';

/** The default policy files with one line rewritten. */
const policyWith = (from: string, to: string) =>
  compilePolicy(
    readdirSync(POLICIES_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => ({ file: f, text: readFileSync(join(POLICIES_DIR, f), 'utf8').replace(from, to) })),
  );

/** A toy rule, added through the registry alone: no config writes at all. */
const noFridays: Rule<CapabilityFacts> = {
  name: 'no_fridays',
  trigger: 'capability',
  stops: true,
  evaluate: (f) => (f.capabilities.includes('config.write') ? stop('no_fridays', 'no deploys on a friday') : allow),
};

describe('the rules registry', () => {
  it('names every stopping rule in the policy schema, and every refusing rule of the tool-call path (its mode only)', () => {
    const schema = policyJsonSchema() as any;
    const keys = Object.keys(schema.properties.trajectory.properties.rules.properties);
    expect(keys.sort()).toEqual([...stopRuleNames(), ...shadowOnlyRuleNames()].sort());
    expect(shadowOnlyRuleNames().sort()).toEqual(['credential_exposure', 'destructive_action', 'uncertain']);
    expect(keys).toEqual(expect.arrayContaining(['substitution', 'environment_mismatch', 'destructive_outside_ceiling', 'escalation_after_denial']));
  });

  it('turns a stop into a refusal when policy says refuse, with the rule’s own code', () => {
    const policy = policyWith('escalation_after_denial: stop', 'escalation_after_denial: refuse');
    const task = { id: 'task_x', agentId: 'a', template: 'fix-credentials', environment: 'staging', purpose: 'p', jkt: 'k', status: 'active' as const, statusReason: null, createdAt: 0, expiresAt: 1 };
    const facts: CapabilityFacts = { policy, task, capabilities: ['config.write'], risk: 'write', environment: 'staging', recentDenials: [{ risk: 'read' }], recentFailures: 0 };
    expect(evaluate(DEFAULT_RULES, 'capability', facts, policy)).toEqual({ kind: 'refuse', rule: 'escalation_after_denial', code: 'invalid_authorization_details', why: expect.stringMatching(/after a refusal/) });
    expect(evaluate(DEFAULT_RULES, 'capability', facts, defaultPolicy())).toMatchObject({ kind: 'stop', rule: 'escalation_after_denial', lockAgent: true });
  });

  it('a toy rule added through the registry is enforced: the task stops, the agent is locked', async () => {
    const b = await testBroker({ rules: [...DEFAULT_RULES, noFridays] });
    const a = await b.registerAgent();
    const t = await a.openTask();
    expect((await a.exchange(t.body.access_token, { scope: 'config.read' })).status).toBe(200);
    const res = await a.exchange(t.body.access_token, { scope: 'config.write' });
    expect(res.body).toMatchObject({ error: 'task_stopped', error_description: expect.stringMatching(/rule no_fridays/) });
    const view = (await (await b.admin(`/v1/tasks/${t.body.task_id}`)).json()) as any;
    expect(view.status_reason).toBe('no_fridays: no deploys on a friday');
    expect((await a.openTask()).body.error).toBe('unauthorized_client');
  });
});

describe('the approval service path obeys the policy', () => {
  it('with substitution: refuse, an agent reaching for the approval service is recorded, not stopped', async () => {
    const s = await testStack({ policy: policyWith('substitution: stop', 'substitution: refuse') });
    const agent = await s.broker.registerAgent({ templates: ['ops-maintenance'] });
    const t = await agent.openTask('ops-maintenance', 'production');
    const url = `${APPROVALS}/v1/approvals`;
    const proof = await dpopProof(await agent.dpopKey(), 'GET', url, { nowSec: s.broker.nowSec(), accessToken: t.body.access_token });
    expect((await s.approvals.app.request(url, { headers: { Authorization: `DPoP ${t.body.access_token}`, DPoP: proof } })).status).toBe(403);
    const view = (await (await s.broker.admin(`/v1/tasks/${t.body.task_id}`)).json()) as any;
    expect(view.status).toBe('active');
    expect(view.events.at(-1).detail).toMatchObject({ type: 'approval.agent_credential', rule: 'substitution' });
  });
});
