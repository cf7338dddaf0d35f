import type { Policy } from '../policy.js';
import { ceiling, destructiveOutsideCeiling } from './ceiling.js';
import { environmentMismatch } from './environment-mismatch.js';
import { escalationAfterDenial } from './escalation-after-denial.js';
import { highImpactLowConfidence } from './low-confidence.js';
import { substitution } from './substitution.js';
import { credentialExposure } from './credential-exposure.js';
import { credentialUse } from './credential-use.js';
import { destructiveAction, destructiveElsewhere } from './destructive-action.js';
import { uncertainty } from './uncertainty.js';
import type { Rule, Verdict } from './types.js';

/**
 * Every rule stint enforces, in the order they are asked within a trigger (the first verdict
 * that is not `allow` decides). Adding a rule is one file and one line here; its name appears
 * under `trajectory.rules` in the policy schema when it can stop.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRule = Rule<any>;
export const DEFAULT_RULES: readonly AnyRule[] = [
  // a credential shown somewhere (the broker, a resource service, the approval service)
  substitution,
  environmentMismatch,
  // a capability asked for, and an approval
  escalationAfterDenial,
  destructiveOutsideCeiling,
  ceiling,
  highImpactLowConfidence,
  // a tool call, before it runs (stint guard, through the AuthZEN endpoint): stops on proof
  // first (a credential value used, a classified destructive action elsewhere), then what is
  // shown, then doubt (blocked, never stopped), then approvals
  credentialUse,
  destructiveElsewhere,
  credentialExposure,
  uncertainty,
  destructiveAction,
];

/** Names of the rules policy may set to `stop | refuse` (the policy schema is built from these). */
export const stopRuleNames = (rules: readonly AnyRule[] = DEFAULT_RULES) => [...new Set(rules.filter((r) => r.stops).map((r) => r.name))];

/** Names of the refusing rules policy may only put in shadow mode (`{mode: shadow}`). */
export const shadowOnlyRuleNames = (rules: readonly AnyRule[] = DEFAULT_RULES) => [...new Set(rules.filter((r) => r.shadowable && !r.stops).map((r) => r.name))];

/** A verdict with what policy makes of it: a stop may become a refusal, and may or may not lock. */
export type Decision =
  | { kind: 'allow' }
  | { kind: 'refuse'; rule: string; code: NonNullable<AnyRule['refuseCode']>; why: string }
  | { kind: 'stop'; rule: string; why: string; lockAgent: boolean };

const ALLOW: Decision = { kind: 'allow' };

/** Asks every rule of `trigger`, in order, and applies policy to the first verdict that is not `allow`. */
export function evaluate<F>(rules: readonly AnyRule[], trigger: string, facts: F, policy: Policy): Decision {
  for (const rule of rules) {
    if (rule.trigger !== trigger) continue;
    const v: Verdict = rule.evaluate(facts);
    if (v.kind !== 'allow') return decisionOf(rule, v, policy);
  }
  return ALLOW;
}

/**
 * What policy makes of one rule's verdict. A stop is governed by the policy entry of the rule
 * it names (a guard rule may stop under `substitution` or `environment_mismatch`): `refuse`
 * there turns it into a refusal, and `lock_agent` there decides the lock.
 */
export function decisionOf(rule: AnyRule, v: Verdict, policy: Policy): Decision {
  if (v.kind === 'allow') return ALLOW;
  if (v.kind === 'refuse') return { kind: 'refuse', rule: rule.name, code: v.code, why: v.why };
  const setting = policy.trajectory.rules[v.rule];
  const named = DEFAULT_RULES.find((r) => r.name === v.rule);
  if (setting?.action === 'refuse') return { kind: 'refuse', rule: v.rule, code: rule.refuseCode ?? named?.refuseCode ?? 'access_denied', why: v.why };
  return { kind: 'stop', rule: v.rule, why: v.why, lockAgent: setting?.lockAgent ?? rule.locksAgent ?? true };
}
