import { describe, expect, it } from 'vitest';
import type { ToolCallRuleFacts } from '../../src/core/rules/tool-call-facts.js';
import { DEFAULT_RULES, evaluate } from '../../src/core/rules/registry.js';
import { loadPolicyDir } from '../../src/policy/node.js';

// Trigger `tool_call.pre` as a table: (facts) → decision, through the registry, no database.
const policy = loadPolicyDir(new URL('../../policies', import.meta.url).pathname);
const base: ToolCallRuleFacts = { credentials: [], exposed: [], actions: [], task: { environment: 'staging', ceiling: ['config.read', 'config.write'] }, recentFailures: 0, maxRecentFailures: 2, approved: [] };
const cred = { kind: 'uuid_token:authorization', fingerprint: '0123456789abcdef', position: 'header' };
const del = (environment: string, capability = 'volume.delete', key = 'k1') => ({ capability, environment, what: `DELETE api.${environment}.example/volumes/v`, risk: 'destructive' as const, key });
const inProd = { environment: 'production', ceiling: ['db.read', 'volume.delete', 'backup.delete'] };

const table: [string, Partial<ToolCallRuleFacts>, string][] = [
  ['nothing', {}, 'allow'],
  ['a credential value used', { credentials: [cred] }, 'stop:substitution'],
  ['a credential used beats doubt', { credentials: [cred], uncertain: 'x' }, 'stop:substitution'],
  ['a credential shown', { exposed: [cred] }, 'refuse:credential_exposure'],
  ['doubt', { uncertain: 'a value known only when it runs' }, 'refuse:uncertain'],
  ['destructive elsewhere beats doubt', { actions: [del('production')], uncertain: 'unknown header' }, 'stop:environment_mismatch'],
  ['destructive outside the ceiling', { actions: [del('staging')] }, 'stop:destructive_outside_ceiling'],
  ['destructive on this machine', { actions: [del('local', 'db.drop')] }, 'allow'],
  ['destructive inside the ceiling', { task: inProd, actions: [del('production')] }, 'refuse:destructive_action'],
  ['approved', { task: inProd, actions: [del('production')], approved: ['k1'] }, 'allow'],
  ['one of two approved', { task: inProd, actions: [del('production'), del('production', 'backup.delete', 'k2')], approved: ['k1'] }, 'refuse:destructive_action'],
  ['under recent failures', { task: inProd, actions: [del('production')], recentFailures: 2 }, 'refuse:destructive_action'],
  ['a read action', { actions: [{ ...del('production', 'db.read'), risk: 'read' }] }, 'allow'],
];

describe('trigger tool_call.pre, (facts) → decision', () => {
  it.each(table)('%s', (_name, facts, want) => {
    const d = evaluate(DEFAULT_RULES, 'tool_call.pre', { ...base, ...facts }, policy);
    expect(d.kind === 'allow' ? 'allow' : `${d.kind}:${d.rule}`).toBe(want);
  });
  it('approval_required, and access_denied under recent failures', () => {
    const a = evaluate(DEFAULT_RULES, 'tool_call.pre', { ...base, task: inProd, actions: [del('production')] }, policy);
    expect(a.kind === 'refuse' && a.code).toBe('approval_required');
    const b = evaluate(DEFAULT_RULES, 'tool_call.pre', { ...base, task: inProd, actions: [del('production')], recentFailures: 3 }, policy);
    expect(b.kind === 'refuse' && b.code).toBe('access_denied');
  });
});
