import type { ErrorCode } from '../errors.js';

/**
 * What a rule says about one request. Rules are pure: they read facts gathered beforehand and
 * return a verdict; `enforce()` (rules/enforce.ts) is the one place that records, stops, locks
 * and revokes. A rule never touches a store.
 */
export type Verdict =
  | { kind: 'allow' }
  | { kind: 'refuse'; code: ErrorCode; why: string }
  | { kind: 'stop'; rule: string; why: string };

export const allow: Verdict = { kind: 'allow' };
export const refuse = (code: ErrorCode, why: string): Verdict => ({ kind: 'refuse', code, why });
export const stop = (rule: string, why: string): Verdict => ({ kind: 'stop', rule, why });

/**
 * One rule of the registry. `name` is the key under `trajectory.rules` in policy when the rule
 * can stop (the policy may turn its stop into a refusal, and may opt it out of locking the
 * agent); `trigger` names the moment it is asked at; `evaluate` is pure over its facts.
 */
export interface Rule<F> {
  name: string;
  trigger: string;
  /** Whether policy may say `stop | refuse` for this rule (it appears in trajectory.rules). */
  stops: boolean;
  /** The answer when policy turns this rule's stop into a refusal. */
  refuseCode?: ErrorCode;
  /** Whether a stop by this rule locks the agent, unless policy says otherwise. */
  locksAgent?: boolean;
  /**
   * A rule that only refuses, on the tool-call path, under its own name: policy may put it in
   * shadow mode (`trajectory.rules.<name>.mode: shadow`). Stopping rules always may.
   */
  shadowable?: boolean;
  evaluate(facts: F): Verdict;
}
