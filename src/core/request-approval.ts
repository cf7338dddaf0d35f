import type { Core } from './context.js';
import { StintError } from './errors.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { taskView } from './tasks.js';
import { record } from './trajectory.js';
import { answer, enforce } from './rules/enforce.js';
import type { CapabilityFacts } from './rules/facts.js';
import { evaluate } from './rules/registry.js';
import { boundedTrajectory } from './trajectory-summary.js';

/** Approval requests one task may have open at once. */
export const MAX_OPEN_APPROVALS_PER_TASK = 5;

/**
 * Hands one destructive action to the approval service (CIBA-shaped: an `auth_req_id` to
 * poll), once the rules of the `approval` trigger allow it (high impact, low confidence).
 */
export async function requestApproval(core: Core, agent: AgentRecord, task: TaskRecord, capabilities: string[], resource: string, bindingMessage?: string) {
  if (capabilities.length !== 1) throw new StintError('invalid_authorization_details', 'ask for one destructive capability at a time');
  const capability = capabilities[0]!;
  const since = core.clock.now() - core.policy.trajectory.window * 1000;
  const recent = await core.store.tasks.recentEventsOfAgent(agent.id, ['denial', 'signal'], since);
  const failures = recent.filter((e) => e.kind === 'denial' || e.detail.signal === 'tool_error').length;
  const facts: CapabilityFacts = { policy: core.policy, task, capabilities, risk: 'destructive', environment: task.environment, recentDenials: [], recentFailures: failures };
  const decision = evaluate(core.rules, 'approval', facts, core.policy);
  if (decision.kind !== 'allow') {
    const target = { tasks: [task], agentIds: [agent.id], actor: agent.id, denial: { type: 'capability.denied' }, denyBeforeStop: true, detail: { capabilities, resource, risk: 'destructive', environment: task.environment } };
    throw answer(await enforce(core, decision, target), target);
  }
  if (!core.approvals) throw new StintError('approval_required', `${capability} needs human approval, and no approval service is configured`);
  // The same action asked for again, while its request is open, is answered with that request:
  // approvers see one row, and the agent polls the one it already has.
  const ttl = core.policy.approvals.find((a) => a.environment === task.environment)?.ttl ?? 600;
  const events = await core.store.tasks.recentEvents(task.id, ['approval', 'grant'], core.clock.now() - ttl * 1000);
  const asks = events.filter((e) => e.detail.type === 'approval.requested');
  const delivered = new Set(events.filter((e) => e.detail.type === 'grant.delivered').map((e) => String(e.detail.auth_req_id)));
  const candidates = asks
    .filter((e) => e.detail.capability === capability && e.detail.resource === resource && !delivered.has(String(e.detail.auth_req_id)))
    .map((e) => String(e.detail.auth_req_id))
    .reverse()
    .slice(0, MAX_OPEN_APPROVALS_PER_TASK);
  if (candidates.length > 0) {
    const action = { task_id: task.id, capability, resource, environment: task.environment, jkt: task.jkt, ...(bindingMessage ? { binding_message: bindingMessage } : {}) };
    const open = await core.approvals.find(agent.id, action, candidates);
    if (open) {
      await record(core, { taskId: task.id, kind: 'approval', type: 'approval.asked_again', actor: agent.id, detail: { capability, resource, auth_req_id: open.auth_req_id } });
      return open;
    }
  }
  // A task may not flood the approvers' queue: requests made within the approval TTL count as open.
  const asked = asks.length;
  if (asked >= MAX_OPEN_APPROVALS_PER_TASK) {
    throw new StintError('too_many_requests', `this task already has ${asked} approval requests open (at most ${MAX_OPEN_APPROVALS_PER_TASK}): poll them before asking again`);
  }

  // Approvers see the agent's recent history across its tasks, not only this one's: a fresh task
  // after a refusal or a stop elsewhere must not reach them with a clean slate.
  const elsewhere = (await core.store.tasks.recentEventsOfAgent(agent.id, ['denial', 'stop', 'signal'], since))
    .filter((e) => e.taskId !== task.id)
    .map((e) => ({ at: new Date(e.at).toISOString(), kind: e.kind, detail: { ...e.detail, task_id: e.taskId } }));
  const own = (await taskView(core, task.id)).events;
  const trajectory = boundedTrajectory([...elsewhere, ...own].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)));
  const opened = await core.approvals.open(agent.id, {
    task_id: task.id,
    template: task.template,
    agent: agent.id,
    agent_name: agent.name,
    owner: agent.owner,
    environment: task.environment,
    capability,
    resource,
    purpose: task.purpose,
    jkt: task.jkt,
    trajectory,
    ...(bindingMessage ? { binding_message: bindingMessage } : {}),
  });
  await record(core, { taskId: task.id, kind: 'approval', type: 'approval.requested', actor: agent.id, detail: { capability, resource, auth_req_id: opened.auth_req_id } });
  return opened;
}
