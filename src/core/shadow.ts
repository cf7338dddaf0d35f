import type { Policy } from './policy.js';
import { decisionOf, evaluate, type AnyRule, type Decision } from './rules/registry.js';
import type { ToolCallRuleFacts } from './rules/tool-call-facts.js';

const TRIGGER = 'tool_call.pre';

/** Whether policy puts a decision in shadow mode: the whole policy, or the rule it is named by. */
export const shadowed = (policy: Policy, d: Decision) => d.kind !== 'allow' && (policy.mode === 'shadow' || policy.trajectory.rules[d.rule]?.mode === 'shadow');

/** The facts without what shadow-mode matchers classified (and their approvals). */
function enforcedFacts(f: ToolCallRuleFacts): ToolCallRuleFacts {
  if (!f.actions.some((a) => a.shadow)) return f;
  const actions = f.actions.filter((a) => !a.shadow);
  return { ...f, actions, approved: f.approved.filter((k) => actions.some((a) => a.key === k)) };
}

const same = (a: Decision, b: Decision) => a.kind === b.kind && (a.kind === 'allow' || (b.kind !== 'allow' && a.rule === b.rule && a.why === b.why));

/**
 * Shadow mode (CONTRACT.md, "The tool-call path"). Two readings of one call, rules being pure:
 * `wouldBe`, what enforcing every rule and matcher would decide; and `decision`, what is enforced
 * once shadow-mode matchers' actions are set aside and shadow-mode rules' verdicts skipped (the
 * next rule is asked, as if the shadowed one had allowed). When they differ, the difference is
 * what shadow mode records (`would_block` / `would_stop`) while the call gets `decision`.
 */
export function evaluateToolCall(rules: readonly AnyRule[], facts: ToolCallRuleFacts, policy: Policy): { decision: Decision; facts: ToolCallRuleFacts; wouldBe?: Decision } {
  const wouldBe = evaluate(rules, TRIGGER, facts, policy);
  if (wouldBe.kind === 'allow') return { decision: wouldBe, facts };
  const enforced = enforcedFacts(facts);
  let decision: Decision = { kind: 'allow' };
  for (const rule of rules) {
    if (rule.trigger !== TRIGGER) continue;
    const v = rule.evaluate(enforced);
    if (v.kind === 'allow') continue;
    const d = decisionOf(rule, v, policy);
    if (shadowed(policy, d)) continue;
    decision = d;
    break;
  }
  return same(wouldBe, decision) ? { decision, facts: enforced } : { decision, facts: enforced, wouldBe };
}

/** `would_stop` or `would_block`: what shadow mode records of a decision it did not enforce. */
export const wouldKind = (d: Decision): 'would_stop' | 'would_block' => (d.kind === 'stop' ? 'would_stop' : 'would_block');
