import { pollGrant } from './ciba.js';
import type { Core } from './context.js';
import { isStintError, type ErrorCode } from './errors.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { requestApproval } from './request-approval.js';
import { credentialExposure } from './rules/credential-exposure.js';
import { credentialUse } from './rules/credential-use.js';
import { destructiveAction } from './rules/destructive-action.js';
import type { Verdict } from './rules/types.js';
import { uncertainty } from './rules/uncertainty.js';
import { reportSignal } from './signals.js';
import { enforce } from './rules/enforce.js';
import { decisionOf, type AnyRule } from './rules/registry.js';
import { currentTask } from './token-state.js';
import type { StintClaims } from './tokens.js';
import { classifyCalls, mostProtectedEnvironment, type ToolCallFacts } from './tool-call.js';
import { record } from './trajectory.js';

/** The answer to one tool call (the AuthZEN response's `decision` and `context`). */
export interface ToolCallDecision {
  decision: boolean;
  context: { reason: string; rule?: string; code?: ErrorCode; stopped?: boolean; auth_req_id?: string; capabilities?: string[] };
}

const APPROVAL_REQUESTED = 'tool_call.approval_requested';

/**
 * Decides one tool call of the task whose token authenticated the caller: gathers the facts the
 * rules need (task, ceiling, classified actions, recent failures, a pending approval for this
 * exact call), asks the rules in order, and acts on the first verdict that is not `allow`
 * (stop the task and lock its agent, or refuse and record). Every decision is on the trajectory
 * in a compact form: tool, capabilities, verdict, fingerprints; never a credential's value.
 */
export async function decideToolCall(core: Core, claims: StintClaims, facts: ToolCallFacts): Promise<ToolCallDecision> {
  const task = await currentTask(core, claims.task_id);
  if (!task || task.status !== 'active') {
    const stopped = task?.status === 'stopped';
    return { decision: false, context: { reason: `task ${claims.task_id} is ${task?.status ?? 'unknown'}${stopped ? ` (${task!.statusReason})` : ''}`, code: 'task_stopped', stopped } };
  }
  const agent = await core.store.agents.get(claims.sub);
  if (!agent || agent.status !== 'active') return { decision: false, context: { reason: `agent ${claims.sub} is locked`, code: 'unauthorized_client', stopped: true } };

  if (facts.stage === 'failure') {
    await reportSignal(core, { kind: 'agent', claims }, { type: 'tool_error', detail: `${facts.tool}: ${(facts.error ?? 'failed').slice(0, 200)}` });
    return { decision: true, context: { reason: 'recorded as a tool_error signal' } };
  }
  if (facts.stage !== 'pre') {
    await note(core, task, agent, facts, 'recorded', []);
    return { decision: true, context: { reason: 'recorded' } };
  }

  // 1. credentials the call uses that are not this task's own
  const use = credentialUse.evaluate({ credentials: facts.credentials });
  if (use.kind !== 'allow') return act(core, task, agent, facts, credentialUse, use, []);
  // 2. credentials the call would show the agent
  const exposure = credentialExposure.evaluate({ exposed: facts.exposed });
  if (exposure.kind !== 'allow') return act(core, task, agent, facts, credentialExposure, exposure, []);

  // 3. what it does
  const classified = classifyCalls(core.policy, facts.calls);
  const unparsedTarget = facts.calls.find((c) => (c.type === 'sql' && c.unparsed) || (c.type === 'http' && c.graphqlUnparsed));
  const doubt = uncertainty.evaluate({ uncertain: facts.uncertain ?? (unparsedTarget ? `an unreadable ${unparsedTarget.type === 'sql' ? 'SQL statement' : 'GraphQL document'}` : undefined) });
  if (doubt.kind !== 'allow') return act(core, task, agent, facts, uncertainty, doubt, classified.map((a) => a.capability));

  const fallback = mostProtectedEnvironment(core.policy) ?? task.environment;
  const actions = classified.map((a) => ({ ...a, environment: a.environment ?? fallback, risk: core.policy.capabilities[a.capability]?.risk ?? 'destructive' }));
  const capabilities = [...new Set(actions.map((a) => a.capability))];
  const destructive = actions.filter((a) => a.risk === 'destructive');
  const ceiling = core.policy.templates[task.template]?.ceiling ?? [];

  let approved = false;
  let pendingId: string | undefined;
  if (destructive.length > 0 && destructive.every((a) => a.environment === task.environment && ceiling.includes(a.capability))) {
    const r = await approvalFor(core, agent, task, facts.callHash);
    approved = r.approved;
    pendingId = r.pending;
  }
  const { window, maxRecentFailures } = core.policy.trajectory;
  const recent = destructive.length ? await core.store.tasks.recentEventsOfAgent(agent.id, ['denial', 'signal'], core.clock.now() - window * 1000) : [];
  const recentFailures = recent.filter((e) => e.kind === 'denial' || e.detail.signal === 'tool_error').length;
  const verdict = destructiveAction.evaluate({ actions, task: { environment: task.environment, ceiling }, recentFailures, maxRecentFailures, approved });

  if (verdict.kind === 'refuse' && verdict.code === 'approval_required') {
    if (pendingId) return { decision: false, context: { reason: `${verdict.why}: waiting for approval ${pendingId}`, code: 'approval_required', auth_req_id: pendingId, capabilities } };
    const capability = destructive[0]!.capability;
    const resource = core.policy.capabilities[capability]?.resources[task.environment] ?? capability;
    try {
      const opened = await requestApproval(core, agent, task, [capability], resource, `guard: ${destructive[0]!.what}`.slice(0, 200));
      await record(core, { taskId: task.id, kind: 'approval', type: APPROVAL_REQUESTED, actor: agent.id, detail: { tool: facts.tool, capability, call_hash: facts.callHash, auth_req_id: opened.auth_req_id } });
      return { decision: false, context: { reason: `${verdict.why}; approval ${opened.auth_req_id} opened: once approved, this exact call is allowed once within 60 s`, code: 'approval_required', auth_req_id: opened.auth_req_id, capabilities } };
    } catch (e) {
      if (isStintError(e)) return { decision: false, context: { reason: e.message, code: e.code, capabilities } };
      throw e;
    }
  }
  if (verdict.kind !== 'allow') return act(core, task, agent, facts, destructiveAction, verdict, capabilities);
  await note(core, task, agent, facts, approved ? 'allowed once (approved)' : 'allowed', capabilities);
  return { decision: true, context: { reason: approved ? 'approved: allowed once' : 'allowed', capabilities } };
}

/** The approval opened for this exact call, if any: granted now (allowed once), or still pending. */
async function approvalFor(core: Core, agent: AgentRecord, task: TaskRecord, callHash: string): Promise<{ approved: boolean; pending?: string }> {
  if (!core.approvals) return { approved: false };
  const since = core.clock.now() - 24 * 3600 * 1000;
  const asked = (await core.store.tasks.recentEvents(task.id, ['approval'], since)).filter((e) => e.detail.type === APPROVAL_REQUESTED && e.detail.call_hash === callHash);
  const last = asked[asked.length - 1];
  if (!last) return { approved: false };
  const id = String(last.detail.auth_req_id);
  try {
    await pollGrant(core, agent, task.jkt, id);
    return { approved: true };
  } catch (e) {
    if (isStintError(e) && (e.code === 'authorization_pending' || e.code === 'slow_down')) return { approved: false, pending: id };
    if (isStintError(e)) return { approved: false };
    throw e;
  }
}

async function act(core: Core, task: TaskRecord, agent: AgentRecord, facts: ToolCallFacts, rule: AnyRule, v: Verdict, capabilities: string[]): Promise<ToolCallDecision> {
  if (v.kind === 'allow') return { decision: true, context: { reason: 'allowed' } };
  const fingerprints = [...facts.credentials, ...facts.exposed].map((c) => ({ kind: c.kind, fingerprint: c.fingerprint, position: c.position, ...(c.file ? { file: c.file } : {}) }));
  // The one place decisions take effect (core/rules/enforce.ts), as for every other trigger.
  const d = decisionOf(rule, v, core.policy);
  if (d.kind === 'allow') return { decision: true, context: { reason: 'allowed' } };
  const code: ErrorCode = d.kind === 'refuse' ? d.code : 'task_stopped';
  const detail = { source: 'tool_call', tool: facts.tool, capabilities, code, fingerprints, call_hash: facts.callHash };
  await enforce(core, d, { tasks: [task], agentIds: [agent.id], actor: agent.id, denial: { type: 'tool_call.refused' }, detail });
  if (d.kind === 'stop') return { decision: false, context: { reason: d.why, rule: d.rule, code, stopped: true, capabilities } };
  return { decision: false, context: { reason: d.why, code, ...(d.rule !== rule.name || v.kind === 'stop' ? { rule: d.rule } : {}), capabilities } };
}

/** An allowed or observed call, compact: the summary only when the call held no credential. */
async function note(core: Core, task: TaskRecord, agent: AgentRecord, facts: ToolCallFacts, verdict: string, capabilities: string[]) {
  await record(core, {
    taskId: task.id,
    kind: 'tool',
    type: 'tool_call.decided',
    actor: agent.id,
    detail: { tool: facts.tool, stage: facts.stage, verdict, capabilities, call_hash: facts.callHash, ...(facts.summary ? { summary: facts.summary.slice(0, 160) } : {}) },
  });
}

