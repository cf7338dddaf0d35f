import { canonicalJson, randomId, sha256 } from '../encoding.js';
import { StintError } from '../errors.js';
import type { ActionRequest, ApprovalCore, ApprovalRecord } from './types.js';

/** CIBA's minimum polling interval we ask agents to keep, seconds. */
export const POLL_INTERVAL = 5;

/** The digest approvers sign: a hash of the exact request, so a decision cannot move. */
export const approvalDigest = (id: string, req: ActionRequest) => sha256(canonicalJson({ approval_id: id, ...req }));

/**
 * Opens an approval request for one destructive action. The approval service checks the
 * action against its own copy of the policy, so a broker cannot ask for what policy forbids
 * or dictate the quorum.
 */
export async function openApproval(core: ApprovalCore, clientId: string, req: ActionRequest) {
  const { policy } = core;
  const bad = (why: string): never => {
    throw new StintError('invalid_request', why);
  };
  const template = policy.templates[req.template];
  const cap = policy.capabilities[req.capability];
  if (!template || !template.environments.includes(req.environment)) bad(`template "${req.template}" does not run in ${req.environment}`);
  if (!cap || !template!.ceiling.includes(req.capability)) bad(`${req.capability} is outside the ceiling of "${req.template}"`);
  if (cap!.risk !== 'destructive') bad(`${req.capability} is not destructive: it needs no approval`);
  if (cap!.resources[req.environment] !== req.resource) bad(`${req.capability} in ${req.environment} is for ${cap!.resources[req.environment]}`);
  if (req.agent !== clientId) bad('the request names another agent');
  const rule = policy.approvals.find((a) => a.environment === req.environment);
  if (!rule) throw new StintError('forbidden', `no approval rule for ${req.environment}: destructive capabilities cannot be granted there`);

  const now = core.clock.now();
  const id = randomId('areq_');
  const record: ApprovalRecord = {
    id,
    clientId,
    request: req,
    digest: await approvalDigest(id, req),
    quorum: rule.quorum,
    groups: rule.groups,
    allowOwner: rule.allowOwner,
    status: 'pending',
    statusReason: null,
    interval: POLL_INTERVAL,
    lastPollAt: null,
    createdAt: now,
    expiresAt: now + rule.ttl * 1000,
  };
  await core.approvals.requests.create(record);
  await core.audit.append({
    type: 'approval.requested',
    actor: clientId,
    taskId: req.task_id,
    data: { approval_id: id, capability: req.capability, resource: req.resource, environment: req.environment, quorum: rule.quorum, digest: record.digest },
  });
  return { auth_req_id: id, expires_in: rule.ttl, interval: POLL_INTERVAL };
}

/** What an approver sees of a request. */
export const approvalView = (r: ApprovalRecord, approvals: string[] = []) => ({
  id: r.id,
  status: r.status,
  status_reason: r.statusReason,
  digest: r.digest,
  action: { capability: r.request.capability, resource: r.request.resource, environment: r.request.environment },
  task: { id: r.request.task_id, template: r.request.template, purpose: r.request.purpose, trajectory: r.request.trajectory },
  agent: { client_id: r.request.agent, name: r.request.agent_name, owner: r.request.owner },
  binding_message: r.request.binding_message ?? null,
  rule: { quorum: r.quorum, groups: r.groups, allow_owner: r.allowOwner },
  approvals,
  created_at: new Date(r.createdAt).toISOString(),
  expires_at: new Date(r.expiresAt).toISOString(),
});
