import type { Core } from './context.js';
import { StintError } from './errors.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { currentTask } from './token-state.js';
import { signToken, verifyToken, type StintClaims } from './tokens.js';
import { record } from './trajectory.js';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface CapabilityRequest {
  capabilities: string[];
  /** RFC 8707 `resource`, if the client named one. */
  resource?: string;
  /** RAR `locations`, if the client named them. */
  locations?: string[];
}

/** Resolves the task token presented as `subject_token` and checks it belongs to this caller. */
export async function taskFromSubjectToken(core: Core, agent: AgentRecord, jkt: string, subjectToken: string) {
  let claims: StintClaims;
  try {
    claims = await verifyToken(core.keys, core.issuer, subjectToken, core.clock.now());
  } catch (e) {
    throw new StintError('invalid_grant', `subject_token: ${(e as Error).message}`, { cause: e });
  }
  if (claims.token_use !== 'task') throw new StintError('invalid_grant', 'subject_token must be a task token');
  if (claims.sub !== agent.id) throw new StintError('invalid_grant', 'subject_token was issued to another agent');
  if (claims.cnf.jkt !== jkt) throw new StintError('invalid_grant', 'subject_token is bound to a different DPoP key');
  if (await core.store.revocations.isTokenRevoked(claims.jti)) throw new StintError('invalid_grant', 'subject_token has been revoked');
  const task = await currentTask(core, claims.task_id);
  if (!task) throw new StintError('invalid_grant', 'subject_token names an unknown task');
  assertTaskActive(task);
  return { claims, task };
}

export function assertTaskActive(task: TaskRecord): void {
  if (task.status === 'stopped') throw new StintError('task_stopped', `task ${task.id} was stopped: ${task.statusReason ?? 'no reason recorded'}`);
  if (task.status !== 'active') throw new StintError('invalid_grant', `task ${task.id} is ${task.status}`);
}

/**
 * RFC 8693 exchange of a task token for a capability token: the capabilities must be inside
 * the task template's ceiling and share one resource, which becomes the token's audience.
 * Destructive capabilities never come out of this path.
 */
export async function exchangeForCapability(core: Core, agent: AgentRecord, jkt: string, subjectToken: string, req: CapabilityRequest) {
  const { task } = await taskFromSubjectToken(core, agent, jkt, subjectToken);
  const { policy } = core;
  const template = policy.templates[task.template]!;

  const deny = async (why: string, code: 'invalid_authorization_details' | 'invalid_target' = 'invalid_authorization_details'): Promise<never> => {
    await record(core, { taskId: task.id, kind: 'denial', type: 'capability.denied', actor: agent.id, detail: { capabilities: req.capabilities, resource: req.resource, reason: why } });
    throw Object.assign(new StintError(code, why), { recorded: true });
  };

  const outside = req.capabilities.filter((c) => !template.ceiling.includes(c));
  if (outside.length > 0) {
    return deny(`${outside.join(', ')} is outside the ceiling of template "${template.name}" (${template.ceiling.join(', ')})`);
  }
  const resources = new Set(req.capabilities.map((c) => policy.capabilities[c]!.resources[task.environment]));
  if (resources.size !== 1 || resources.has(undefined)) {
    return deny('request capabilities for one resource at a time', 'invalid_target');
  }
  const resource = [...resources][0]!;
  if (req.resource !== undefined && req.resource !== resource) {
    return deny(`resource must be ${resource} for ${req.capabilities.join(', ')} in ${task.environment}`, 'invalid_target');
  }
  if (req.locations && (req.locations.length !== 1 || req.locations[0] !== resource)) {
    return deny(`locations must be ["${resource}"] for ${req.capabilities.join(', ')} in ${task.environment}`, 'invalid_target');
  }
  const destructive = req.capabilities.filter((c) => policy.capabilities[c]!.risk === 'destructive');
  if (destructive.length > 0) {
    await record(core, { taskId: task.id, kind: 'denial', type: 'capability.approval_required', actor: agent.id, detail: { capabilities: destructive, resource } });
    throw Object.assign(new StintError('approval_required', `${destructive.join(', ')} is destructive: only the approval authority can mint it, after human approval`), { recorded: true });
  }

  const now = core.clock.now();
  const ttl = Math.min(policy.environments[task.environment]!.maxTokenTtl, Math.floor((task.expiresAt - now) / 1000));
  if (ttl < 1) throw new StintError('invalid_grant', `task ${task.id} is about to expire`);
  const detail = { type: 'stint_capability', actions: req.capabilities, locations: [resource] };
  const { token, claims } = await signToken(
    core.keys,
    core.issuer,
    {
      sub: agent.id,
      aud: resource,
      client_id: agent.id,
      cnf: { jkt },
      task_id: task.id,
      env: task.environment,
      token_use: 'capability',
      scope: req.capabilities.join(' '),
      authorization_details: [detail],
    },
    now,
    ttl,
  );
  await record(core, {
    taskId: task.id,
    kind: 'grant',
    type: 'capability.issued',
    actor: agent.id,
    detail: { capabilities: req.capabilities, resource, jti: claims.jti, exp: claims.exp },
  });
  return { token, claims, detail, ttl };
}
