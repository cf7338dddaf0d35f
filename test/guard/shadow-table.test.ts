import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/core/policy.js';
import type { Decision } from '../../src/core/rules/registry.js';
import { DEFAULT_RULES } from '../../src/core/rules/registry.js';
import type { ToolCallRuleFacts } from '../../src/core/rules/tool-call-facts.js';
import { evaluateToolCall } from '../../src/core/shadow.js';
import { loadPolicyDir } from '../../src/policy/node.js';

// Shadow mode as a table: (policy modes, facts) → (enforced, recorded as would_*), no database.
const policy = loadPolicyDir(new URL('../../policies', import.meta.url).pathname);
const base: ToolCallRuleFacts = { credentials: [], exposed: [], actions: [], task: { environment: 'staging', ceiling: ['config.read', 'config.write'] }, recentFailures: 0, maxRecentFailures: 2, approved: [] };
const cred = { kind: 'uuid_token:authorization', fingerprint: '0123456789abcdef', position: 'header' };
const del = (environment: string, shadow = false) => ({ capability: 'volume.delete', environment, what: `DELETE api.${environment}.example/volumes/v`, risk: 'destructive' as const, key: `k-${environment}-${shadow}`, ...(shadow ? { shadow } : {}) });
const inProd = { environment: 'production', ceiling: ['db.read', 'volume.delete', 'backup.delete'] };
const rules = (r: Policy['trajectory']['rules']): Policy => ({ ...policy, trajectory: { ...policy.trajectory, rules: { ...policy.trajectory.rules, ...r } } });
const show = (d: Decision | undefined) => (d === undefined ? '-' : d.kind === 'allow' ? 'allow' : `${d.kind}:${d.rule}`);

const table: [string, Policy, Partial<ToolCallRuleFacts>, string, string][] = [
  ['enforce: a credential used', policy, { credentials: [cred] }, 'stop:substitution', '-'],
  ['policy in shadow', { ...policy, mode: 'shadow' }, { credentials: [cred] }, 'allow', 'stop:substitution'],
  ['policy in shadow, nothing to say', { ...policy, mode: 'shadow' }, {}, 'allow', '-'],
  ['rule in shadow, the next rule enforced', rules({ substitution: { action: 'stop', mode: 'shadow' } }), { credentials: [cred], uncertain: 'x' }, 'refuse:uncertain', 'stop:substitution'],
  ['rule in shadow, another rule first', rules({ uncertain: { mode: 'shadow' } }), { credentials: [cred], uncertain: 'x' }, 'stop:substitution', '-'],
  ['shadow matcher elsewhere', policy, { actions: [del('production', true)] }, 'allow', 'stop:environment_mismatch'],
  ['shadow matcher beside an enforced one', policy, { actions: [del('production', true), del('staging')] }, 'stop:destructive_outside_ceiling', 'stop:environment_mismatch'],
  ['shadow matcher inside the ceiling: no approval asked', policy, { task: inProd, actions: [del('production', true)] }, 'allow', 'refuse:destructive_action'],
  ['refused rule in shadow', rules({ substitution: { action: 'refuse', mode: 'shadow' } }), { credentials: [cred] }, 'allow', 'refuse:substitution'],
];

describe('shadow mode, (policy, facts) → (enforced, would)', () => {
  it.each(table)('%s', (_name, p, facts, enforced, would) => {
    const r = evaluateToolCall(DEFAULT_RULES, { ...base, ...facts }, p);
    expect([show(r.decision), show(r.wouldBe)]).toEqual([enforced, would]);
    // what is enforced is decided without shadow matchers' actions
    expect(r.facts.actions.some((a) => a.shadow)).toBe(false);
  });
});
