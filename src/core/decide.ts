import { pollGrant } from './ciba.js';
import type { Core } from './context.js';
import { isStintError, type ErrorCode } from './errors.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { requestApproval } from './request-approval.js';
import { canonicalJson, sha256 } from './encoding.js';
import { reportSignal } from './signals.js';
import { enforce } from './rules/enforce.js';
import type { Decision } from './rules/registry.js';
import { evaluateToolCall, wouldKind } from './shadow.js';
import type { ToolCallAction, ToolCallRuleFacts } from './rules/tool-call-facts.js';
import { currentTask } from './token-state.js';
import type { StintClaims } from './tokens.js';
import { classifyCalls, LOCAL, mostProtectedEnvironment, type ToolCallFacts } from './tool-call.js';
import { intake } from './tool-call-intake.js';
import { flushObservations, observe } from './observations.js';
import { record } from './trajectory.js';

/** The answer to one tool call (the AuthZEN response's `decision` and `context`). */
export interface ToolCallDecision {
  decision: boolean;
  context: {
    reason: string;
    rule?: string;
    code?: ErrorCode;
    stopped?: boolean;
    auth_req_id?: string;
    auth_req_ids?: string[];
    capabilities?: string[];
    /** Shadow mode: the call is allowed, and this is what enforcing would have done. */
    shadow?: 'would_block' | 'would_stop';
    /** Shadow mode: the error code enforcing would have answered (`code` is for refusals only). */
    shadow_code?: ErrorCode;
  };
}

const APPROVAL_REQUESTED = 'tool_call.approval_requested';
const APPROVAL_READY = 'tool_call.approval_granted';
const APPROVAL_SPENT = 'tool_call.approval_spent';

/**
 * Decides one tool call of the task whose token authenticated the caller: gathers the facts the
 * rules need (task, ceiling, classified actions, recent failures, a pending approval for this
 * exact call), asks the rules in order, and acts on the first verdict that is not `allow`
 * (stop the task and lock its agent, or refuse and record). Every decision is on the trajectory
 * in a compact form: tool, capabilities, verdict, fingerprints; never a credential's value.
 */
export async function decideToolCall(core: Core, claims: StintClaims, received: ToolCallFacts): Promise<ToolCallDecision> {
  // fingerprints keyed, leaked stint tokens revoked: before anything else, whatever the task's state
  const facts = await intake(core, claims, received);
  const task = await currentTask(core, claims.task_id);
  if (!task || task.status !== 'active') {
    const stopped = task?.status === 'stopped';
    return { decision: false, context: { reason: `task ${claims.task_id} is ${task?.status ?? 'unknown'}${stopped ? ` (${task!.statusReason})` : ''}`, code: 'task_stopped', stopped } };
  }
  const agent = await core.store.agents.get(claims.sub);
  if (!agent || agent.status !== 'active') return { decision: false, context: { reason: `agent ${claims.sub} is locked`, code: 'unauthorized_client', stopped: true } };

  if (facts.stage === 'failure') {
    await flushObservations(core, { taskId: task.id }); // the calls before the failure, first
    await reportSignal(core, { kind: 'agent', claims }, { type: 'tool_error', detail: `${facts.tool}: ${(facts.error ?? 'failed').slice(0, 200)}` });
    return { decision: true, context: { reason: 'recorded as a tool_error signal' } };
  }
  if (facts.stage !== 'pre') {
    await note(core, task, agent, facts, 'recorded', []);
    return { decision: true, context: { reason: 'recorded' } };
  }

  const gathered = await gather(core, agent, task, facts);
  // shadow mode: `wouldBe` is recorded, `d` enforced, over facts without shadow matchers' actions
  const { decision: d, facts: ruleFacts, wouldBe } = evaluateToolCall(core.rules, gathered.facts, core.policy);
  const capabilities = gathered.capabilities;
  const spent = d.kind === 'allow' ? destructiveKeys(ruleFacts).filter((k) => ruleFacts.approved.includes(k)) : [];
  const shadowed = wouldBe !== undefined && wouldBe.kind !== 'allow' ? wouldBe : undefined;
  // Anything but a routine allow is its own record: the task's routine counts go first, so its
  // trajectory keeps the order things happened in.
  if (d.kind !== 'allow' || spent.length || shadowed) await flushObservations(core, { taskId: task.id });
  const shadow = shadowed ? await recordShadow(core, task, agent, facts, shadowed, capabilities) : undefined;

  if (d.kind === 'refuse' && d.code === 'approval_required') return openApprovals(core, agent, task, facts, ruleFacts, d.why, capabilities);
  if (d.kind !== 'allow') return act(core, task, agent, facts, d, capabilities);
  for (const key of spent) {
    const a = ruleFacts.actions.find((x) => x.key === key)!;
    await record(core, { taskId: task.id, kind: 'approval', type: APPROVAL_SPENT, actor: agent.id, detail: { action_key: key, capability: a.capability, what: a.what } });
  }
  // a call allowed in shadow mode is recorded once, as what it would have been (recordShadow)
  if (!shadow) await note(core, task, agent, facts, spent.length ? 'allowed once (approved)' : 'allowed', capabilities);
  if (shadow) return { decision: true, context: { capabilities, shadow: shadow.shadow, rule: shadow.rule, shadow_code: shadow.code, reason: `allowed in shadow mode; enforced, ${shadow.reason}` } };
  return { decision: true, context: { reason: spent.length ? 'approved: allowed once' : 'allowed', capabilities } };
}

/**
 * Shadow mode's record of a decision it did not enforce, on the trajectory and in the audit log
 * (`tool_call.would_stop` / `tool_call.would_block`, never pushed): rule, reason, fingerprints.
 */
async function recordShadow(core: Core, task: TaskRecord, agent: AgentRecord, facts: ToolCallFacts, d: Exclude<Decision, { kind: 'allow' }>, capabilities: string[]) {
  const shadow = wouldKind(d);
  const code: ErrorCode = d.kind === 'refuse' ? d.code : 'task_stopped';
  await record(core, {
    taskId: task.id,
    kind: 'tool',
    type: `tool_call.${shadow}`,
    actor: agent.id,
    detail: { source: 'tool_call', mode: 'shadow', tool: facts.tool, rule: d.rule, code, reason: d.why, capabilities, fingerprints: fingerprintsOf(facts) },
  });
  return { shadow, rule: d.rule, code, reason: `this call would be ${d.kind === 'stop' ? 'stopped' : 'blocked'} by rule ${d.rule}: ${d.why}` };
}

const fingerprintsOf = (facts: ToolCallFacts) => [...facts.credentials, ...facts.exposed].map((c) => ({ kind: c.kind, fingerprint: c.fingerprint, position: c.position, ...(c.file ? { file: c.file } : {}) }));

const destructiveKeys = (f: ToolCallRuleFacts) => f.actions.filter((a) => a.risk === 'destructive' && a.environment !== LOCAL).map((a) => a.key);

/** The normalised action an approval is for: capability, environment and what, as the broker derived them. */
const actionKey = (a: { capability: string; environment: string; what: string }) => sha256(canonicalJson({ capability: a.capability, environment: a.environment, what: a.what })).slice(0, 32);

/**
 * The facts of trigger `tool_call.pre`, gathered once: the actions the broker derives from the
 * calls it is shown (never a hash or a descriptor of the caller's on trust), the ceiling, recent
 * failures, and which of the call's destructive actions are approved and unspent.
 */
async function gather(core: Core, agent: AgentRecord, task: TaskRecord, facts: ToolCallFacts): Promise<{ facts: ToolCallRuleFacts; capabilities: string[] }> {
  // a database named only when the command runs: doubt (below), not the most protected environment
  const classified = classifyCalls(core.policy, facts.calls.filter((c) => !(c.type === 'sql' && c.hostUnresolved)));
  const fallback = mostProtectedEnvironment(core.policy) ?? task.environment;
  const actions: ToolCallAction[] = classified.map((a) => {
    const environment = a.environment ?? fallback;
    return { ...a, environment, risk: core.policy.capabilities[a.capability]?.risk ?? 'destructive', key: actionKey({ ...a, environment }) };
  });
  const capabilities = [...new Set(actions.map((a) => a.capability))];
  const ceiling = core.policy.templates[task.template]?.ceiling ?? [];
  const unparsed = facts.calls.find((c) => (c.type === 'sql' && (c.unparsed || (c.hostUnresolved && c.statements.length > 0))) || (c.type === 'http' && c.graphqlUnparsed));
  const uncertain = facts.uncertain ?? (unparsed ? (unparsed.type === 'sql' ? (unparsed.unparsed ? 'an unreadable SQL statement' : 'a destructive SQL statement sent to a database named only when the command runs') : 'an unreadable GraphQL document') : undefined);
  const { window, maxRecentFailures } = core.policy.trajectory;
  const destructive = actions.filter((a) => a.risk === 'destructive' && a.environment !== LOCAL);
  const recent = destructive.length ? await core.store.tasks.recentEventsOfAgent(agent.id, ['denial', 'signal'], core.clock.now() - window * 1000) : [];
  const recentFailures = recent.filter((e) => e.kind === 'denial' || e.detail.signal === 'tool_error').length;
  const approved: string[] = [];
  const inside = destructive.length > 0 && destructive.every((a) => a.environment === task.environment && ceiling.includes(a.capability));
  if (inside && !uncertain) {
    for (const a of destructive) if ((await approvalFor(core, agent, task, a.key)).approved) approved.push(a.key);
  }
  return {
    facts: { credentials: facts.credentials, exposed: facts.exposed, ...(uncertain ? { uncertain } : {}), actions, task: { environment: task.environment, ceiling }, recentFailures, maxRecentFailures, approved },
    capabilities,
  };
}

/**
 * One approval request per destructive action not yet approved (none for one already pending),
 * each showing its one action in full. The answer names every request.
 */
async function openApprovals(core: Core, agent: AgentRecord, task: TaskRecord, facts: ToolCallFacts, f: ToolCallRuleFacts, why: string, capabilities: string[]): Promise<ToolCallDecision> {
  const ids: string[] = [];
  const opened: string[] = [];
  for (const a of f.actions) {
    if (a.risk !== 'destructive' || a.environment === LOCAL || f.approved.includes(a.key)) continue;
    const state = await approvalFor(core, agent, task, a.key);
    if (state.pending) {
      ids.push(state.pending);
      continue;
    }
    const resource = core.policy.capabilities[a.capability]?.resources[task.environment] ?? a.capability;
    try {
      const r = await requestApproval(core, agent, task, [a.capability], resource, `guard: ${a.capability} ${a.what}`.slice(0, 200));
      await record(core, { taskId: task.id, kind: 'approval', type: APPROVAL_REQUESTED, actor: agent.id, detail: { tool: facts.tool, capability: a.capability, what: a.what, action_key: a.key, auth_req_id: r.auth_req_id } });
      ids.push(r.auth_req_id);
      opened.push(r.auth_req_id);
    } catch (e) {
      if (isStintError(e)) return { decision: false, context: { reason: e.message, code: e.code, capabilities, ...(ids.length ? { auth_req_id: ids[0] } : {}) } };
      throw e;
    }
  }
  const list = ids.join(', ');
  const reason = opened.length ? `${why}; approval ${list} opened (one per action): once approved, each allows its one action once within 60 s` : `${why}: waiting for approval ${list}`;
  return { decision: false, context: { reason, rule: 'destructive_action', code: 'approval_required', ...(ids[0] ? { auth_req_id: ids[0] } : {}), ...(ids.length > 1 ? { auth_req_ids: ids } : {}), capabilities } };
}

/**
 * The approval of one normalised action: approved (granted, not yet spent, within 60 s of the
 * grant), pending, or none. A grant is fetched from the approval service once and remembered on
 * the trajectory, so a call with several actions can wait for all of them without losing one.
 */
async function approvalFor(core: Core, agent: AgentRecord, task: TaskRecord, key: string): Promise<{ approved: boolean; pending?: string }> {
  if (!core.approvals) return { approved: false };
  const since = core.clock.now() - 24 * 3600 * 1000;
  const events = (await core.store.tasks.recentEvents(task.id, ['approval'], since)).filter((e) => e.detail.action_key === key);
  const last = [...events].reverse().find((e) => e.detail.type === APPROVAL_REQUESTED);
  if (!last) return { approved: false };
  const id = String(last.detail.auth_req_id);
  const ready = events.find((e) => e.detail.type === APPROVAL_READY && e.detail.auth_req_id === id);
  const spent = events.some((e) => e.detail.type === APPROVAL_SPENT && e.at >= (ready?.at ?? last.at));
  if (ready) return { approved: !spent && core.clock.now() - ready.at <= 60_000 };
  try {
    await pollGrant(core, agent, task.jkt, id);
  } catch (e) {
    if (isStintError(e) && (e.code === 'authorization_pending' || e.code === 'slow_down')) return { approved: false, pending: id };
    if (isStintError(e)) return { approved: false };
    throw e;
  }
  await record(core, { taskId: task.id, kind: 'approval', type: APPROVAL_READY, actor: agent.id, detail: { action_key: key, auth_req_id: id } });
  return { approved: true };
}

async function act(core: Core, task: TaskRecord, agent: AgentRecord, facts: ToolCallFacts, d: Decision, capabilities: string[]): Promise<ToolCallDecision> {
  if (d.kind === 'allow') return { decision: true, context: { reason: 'allowed' } };
  const fingerprints = fingerprintsOf(facts);
  const code: ErrorCode = d.kind === 'refuse' ? d.code : 'task_stopped';
  const detail = { source: 'tool_call', tool: facts.tool, capabilities, code, fingerprints };
  // The one place decisions take effect (core/rules/enforce.ts), as for every other trigger.
  await enforce(core, d, { tasks: [task], agentIds: [agent.id], actor: agent.id, denial: { type: 'tool_call.refused' }, detail });
  if (d.kind === 'stop') return { decision: false, context: { reason: d.why, rule: d.rule, code, stopped: true, capabilities } };
  return { decision: false, context: { reason: d.why, code, rule: d.rule, capabilities } };
}

/**
 * An allowed or observed call, compact: the summary only when the call held no credential.
 * Routine ones are counted into the task's interval (core/observations.ts); a call allowed by a
 * spent approval is recorded on its own.
 */
async function note(core: Core, task: TaskRecord, agent: AgentRecord, facts: ToolCallFacts, verdict: string, capabilities: string[]) {
  if (verdict === 'allowed' || verdict === 'recorded') {
    await observe(core, { taskId: task.id, agentId: agent.id, tool: facts.tool, stage: facts.stage, verdict, capabilities, callHash: facts.callHash, summary: facts.summary });
    return;
  }
  await record(core, {
    taskId: task.id,
    kind: 'tool',
    type: 'tool_call.decided',
    actor: agent.id,
    detail: { tool: facts.tool, stage: facts.stage, verdict, capabilities, call_hash: facts.callHash, ...(facts.summary ? { summary: facts.summary.slice(0, 160) } : {}) },
  });
}

