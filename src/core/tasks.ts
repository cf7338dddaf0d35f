import type { Core } from './context.js';
import { randomId } from './encoding.js';
import { StintError } from './errors.js';
import { taskTtlFor, templatesFor } from './policy.js';
import type { AgentRecord, TaskEvent, TaskRecord } from './ports.js';
import { currentTask } from './token-state.js';
import { signToken, type AuthorizationDetail, type StintClaims } from './tokens.js';
import { record } from './trajectory.js';
import { flushObservations } from './observations.js';
import { taskSummary, type TaskSummary } from './listings.js';

export interface TaskRequest {
  template: string;
  environment: string;
  purpose: string;
}

const refuseTask = async (core: Core, agent: AgentRecord, req: TaskRequest, why: string): Promise<never> => {
  await core.audit.append({ type: 'task.denied', actor: agent.id, data: { ...req, reason: why } });
  throw new StintError('invalid_authorization_details', why, { recorded: true });
};

/**
 * Opens a task: checks the template is granted to the agent and allowed in the environment,
 * then issues a task token bound to the request's DPoP key and living as long as the task.
 */
export async function openTask(core: Core, agent: AgentRecord, request: TaskRequest, jkt: string) {
  const req: TaskRequest = { template: request.template, environment: request.environment, purpose: request.purpose };
  if (agent.status !== 'active') {
    throw new StintError('unauthorized_client', 'this agent is locked after a stop event; an operator must release it');
  }
  const { policy } = core;
  const template = policy.templates[req.template];
  if (!template) return refuseTask(core, agent, req, `unknown template "${req.template}"`);
  if (!templatesFor(policy, agent).has(req.template)) {
    return refuseTask(core, agent, req, `template "${req.template}" is not granted to this agent`);
  }
  if (!template.environments.includes(req.environment) || !policy.environments[req.environment]) {
    return refuseTask(core, agent, req, `template "${req.template}" may not run in environment "${req.environment}"`);
  }

  const now = core.clock.now();
  const ttl = taskTtlFor(policy, req.template, req.environment);
  const task: TaskRecord = {
    id: randomId('task_'),
    agentId: agent.id,
    template: req.template,
    environment: req.environment,
    purpose: req.purpose,
    jkt,
    status: 'active',
    statusReason: null,
    createdAt: now,
    expiresAt: now + ttl * 1000,
  };
  const detail: AuthorizationDetail = {
    type: 'stint_task',
    task_id: task.id,
    template: task.template,
    environment: task.environment,
    purpose: task.purpose,
    ceiling: template.ceiling,
  };
  const { token, claims } = await signToken(
    core.keys,
    core.issuer,
    { sub: agent.id, aud: core.issuer, client_id: agent.id, cnf: { jkt }, task_id: task.id, task_opened_ms: task.createdAt, env: task.environment, token_use: 'task', authorization_details: [detail] },
    now,
    ttl,
  );
  await core.store.tasks.create(task);
  try {
    await record(core, { taskId: task.id, kind: 'opened', type: 'task.opened', actor: agent.id, detail: { ...req, jti: claims.jti, jkt, exp: claims.exp } });
  } catch (e) {
    // Not audited, so not issued: make sure the task can never be used.
    await core.store.tasks.end(task.id, 'revoked', 'audit append failed at opening').catch(() => undefined);
    throw e;
  }
  return { token, claims, task, detail };
}

/** Ends the task whose task token authenticated this call. */
export async function completeTask(core: Core, taskId: string, caller: StintClaims) {
  if (caller.token_use !== 'task' || caller.task_id !== taskId) {
    throw new StintError('forbidden', 'only the task token of this task may complete it');
  }
  const task = await currentTask(core, taskId);
  if (!task) throw new StintError('not_found', 'no such task');
  if (!(await core.store.tasks.end(taskId, 'completed', 'completed by its agent'))) {
    throw new StintError('conflict', `task is already ${task.status}`);
  }
  await record(core, { taskId, kind: 'complete', type: 'task.completed', actor: caller.sub, detail: { agent: task.agentId, environment: task.environment } });
  return taskView(core, taskId);
}

/** Operator revocation of one task: every token it holds stops working before this returns. */
export async function revokeTask(core: Core, taskId: string, actor: string, reason: string) {
  const task = await currentTask(core, taskId);
  if (!task) throw new StintError('not_found', 'no such task');
  const ended = await core.store.tasks.end(taskId, 'revoked', reason);
  if (ended) {
    await record(core, { taskId, kind: 'revoke', type: 'task.revoked', actor, detail: { reason, agent: task.agentId, environment: task.environment } });
  }
  return taskView(core, taskId);
}

export interface TaskView extends TaskSummary {
  events: (Omit<TaskEvent, 'taskId' | 'at'> & { at: string })[];
}

export async function taskView(core: Core, taskId: string): Promise<TaskView> {
  const task = await currentTask(core, taskId);
  if (!task) throw new StintError('not_found', 'no such task');
  await flushObservations(core, { taskId }); // the routine calls counted so far, written before they are shown
  const events = await core.store.tasks.events(taskId);
  return {
    ...taskSummary(task),
    events: events.map((e) => ({ at: new Date(e.at).toISOString(), kind: e.kind, detail: e.detail })),
  };
}
