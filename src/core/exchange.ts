import type { Core } from './context.js';
import { StintError } from './errors.js';
import { environmentServedBy } from './environments.js';
import { RISK_ORDER, type Risk } from './policy.js';
import type { AgentRecord, TaskRecord } from './ports.js';
import { stoppedError } from './stop.js';
import { answer, enforce } from './rules/enforce.js';
import type { CapabilityFacts } from './rules/facts.js';
import { evaluate } from './rules/registry.js';
import { onPresentation } from './presentation.js';
import { tokenTask } from './token-state.js';
import { signToken } from './tokens.js';
import { requestApproval } from './request-approval.js';
import { record } from './trajectory.js';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface CapabilityRequest {
  capabilities: string[];
  /** RFC 8693 `requested_token_type`, if the client named one. */
  requestedTokenType?: string;
  /** RFC 8707 `resource`, if the client named one. */
  resource?: string;
  /** RAR `locations`, if the client named them. */
  locations?: string[];
}

/**
 * Resolves the task token presented as `subject_token`. A token the broker never issued,
 * another agent's token, or one bound to another key is credential substitution: a stop.
 */
export async function taskFromSubjectToken(core: Core, agent: AgentRecord, jkt: string, subjectToken: string) {
  // Ownership before expiry: a found token is substitution whether or not it still works.
  const seen = await onPresentation(core, { token: subjectToken, jkt, presenter: agent, where: 'the broker', actor: agent.id, denial: { type: 'credential.refused' }, detail: { risk: 'read' } });
  if (seen.enforced.decision.kind !== 'allow') throw answer(seen.enforced, seen.target);
  const claims = seen.claims;
  if (!claims) throw new StintError('invalid_grant', 'subject_token is not a token this broker issued');
  if (claims.exp * 1000 <= core.clock.now()) throw new StintError('invalid_grant', 'subject_token has expired');
  if (claims.token_use !== 'task') throw new StintError('invalid_grant', 'subject_token must be a task token');
  const { task, revoked } = await tokenTask(core, claims);
  if (revoked) throw new StintError('invalid_grant', 'subject_token has been revoked');
  if (!task) throw new StintError('invalid_grant', 'subject_token names an unknown task');
  assertTaskActive(task);
  return { claims, task };
}

export function assertTaskActive(task: TaskRecord): void {
  if (task.status === 'stopped') throw stoppedError(task);
  if (task.status !== 'active') throw new StintError('invalid_grant', `task ${task.id} is ${task.status}`);
}

/** The highest of the risks (an unknown capability counts as `read`: the ceiling refuses it anyway). */
const maxRisk = (risks: (Risk | undefined)[]): Risk => risks.reduce<Risk>((top, r) => (r && RISK_ORDER[r] > RISK_ORDER[top] ? r : top), 'read');

/**
 * Checks a capability request against the task: trajectory rules first, then the ceiling, then
 * the resource. Refusals are recorded; stops stop. Returns what may be granted.
 */
export async function resolveCapability(core: Core, agent: AgentRecord, jkt: string, subjectToken: string, req: CapabilityRequest) {
  const { task } = await taskFromSubjectToken(core, agent, jkt, subjectToken);
  const { policy } = core;
  const { window } = policy.trajectory;
  const riskName = maxRisk(req.capabilities.map((c) => policy.capabilities[c]?.risk));
  const requestedEnv = req.resource ? (environmentServedBy(policy, req.resource) ?? task.environment) : task.environment;
  const base = { capabilities: req.capabilities, resource: req.resource, risk: riskName, environment: requestedEnv };

  const deny = async (why: string, code: 'invalid_authorization_details' | 'invalid_target' = 'invalid_authorization_details'): Promise<never> => {
    await record(core, { taskId: task.id, kind: 'denial', type: 'capability.denied', actor: agent.id, detail: { ...base, reason: why } });
    throw new StintError(code, why, { recorded: true });
  };

  // The rules (core/rules/): escalation after a refusal, the ceiling, destructive outside it.
  const since = core.clock.now() - window * 1000;
  const denials = await core.store.tasks.recentEventsOfAgent(agent.id, ['denial'], since);
  const facts: CapabilityFacts = { policy, task, capabilities: req.capabilities, risk: riskName, environment: requestedEnv, recentDenials: denials.map((d) => ({ risk: d.detail.risk as Risk | undefined })), recentFailures: 0 };
  const decision = evaluate(core.rules, 'capability', facts, policy);
  if (decision.kind !== 'allow') {
    const target = { tasks: [task], agentIds: [agent.id], actor: agent.id, denial: { type: 'capability.denied' }, denyBeforeStop: true, detail: base };
    throw answer(await enforce(core, decision, target), target);
  }

  // Past the ceiling rule every capability is one the policy defines.
  const caps = req.capabilities.map((c) => policy.capabilities[c]);
  const resources = new Set(caps.map((c) => c?.resources[task.environment]));
  const [resource] = resources;
  if (resources.size !== 1 || resource === undefined) return deny('request capabilities for one resource at a time', 'invalid_target');
  if (req.resource !== undefined && req.resource !== resource) {
    await deny(`resource must be ${resource} for ${req.capabilities.join(', ')} in ${task.environment}`, 'invalid_target');
  }
  if (req.locations && (req.locations.length !== 1 || req.locations[0] !== resource)) {
    await deny(`locations must be ["${resource}"] for ${req.capabilities.join(', ')} in ${task.environment}`, 'invalid_target');
  }
  const destructive = caps.flatMap((c) => (c?.risk === 'destructive' ? [c.name] : []));
  return { task, resource, destructive };
}

/**
 * RFC 8693 exchange of a task token for a capability token: the capabilities must be inside
 * the task template's ceiling and share one resource, which becomes the token's audience.
 * Destructive capabilities never come out of this path: the request is handed to the approval
 * service and the answer is `approval_required` with the `auth_req_id` to poll.
 */
export async function exchangeForCapability(core: Core, agent: AgentRecord, jkt: string, subjectToken: string, req: CapabilityRequest) {
  const { task, resource, destructive } = await resolveCapability(core, agent, jkt, subjectToken, req);
  const { policy } = core;
  if (destructive.length > 0) {
    const opened = await requestApproval(core, agent, task, req.capabilities, resource);
    throw new StintError('approval_required', `${destructive.join(', ')} is destructive: only the approval authority can mint it, after human approval; poll auth_req_id`, {
      fields: opened,
      recorded: true,
    });
  }

  // A capability that is a credential of another system goes to its provider.
  const provided = req.capabilities.map((c) => policy.capabilities[c]).filter((c) => c?.provider !== undefined);
  const byTokenType = [...core.providers.values()].find((p) => p.issuedTokenType === req.requestedTokenType);
  if (provided.length > 0 || byTokenType) {
    const cap = provided[0];
    if (!cap?.provider || provided.length !== 1 || req.capabilities.length !== 1) {
      throw new StintError('invalid_request', `${byTokenType?.issuedTokenType ?? 'a provider credential'} is for exactly one provider capability at a time`);
    }
    const provider = core.providers.get(cap.provider.type);
    if (!provider) throw new StintError('temporarily_unavailable', `${cap.name} maps to ${cap.provider.type}, and no ${cap.provider.type} provider is configured`);
    if (req.requestedTokenType !== undefined && req.requestedTokenType !== provider.issuedTokenType) {
      throw new StintError('invalid_request', `requested_token_type for ${cap.name} must be ${provider.issuedTokenType}`);
    }
    return { kind: 'provider' as const, issuedTokenType: provider.issuedTokenType, issued: await provider.issue(core, { agent, task, capability: cap }) };
  }
  if (req.requestedTokenType !== undefined && req.requestedTokenType !== ACCESS_TOKEN_TYPE) {
    const types = [ACCESS_TOKEN_TYPE, ...[...core.providers.values()].map((p) => p.issuedTokenType)];
    throw new StintError('invalid_request', `requested_token_type must be one of ${types.join(', ')}`);
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
      task_opened_ms: task.createdAt,
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
  return { kind: 'jwt' as const, token, claims, detail, ttl };
}
