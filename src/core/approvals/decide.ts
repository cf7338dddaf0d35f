import { ACCEPTED_ALGS } from '../dpop.js';
import { StintError } from '../errors.js';
import { normaliseName, verifyByApprover } from './approvers.js';
import { approvalView } from './open.js';
import type { ApprovalCore, ApprovalRecord, ApproverRecord } from './types.js';

/** A decision JWS may be at most this old when it arrives, seconds. */
export const MAX_DECISION_AGE = 300;

/** Marks a request expired if its time is up; returns its current form. */
export async function current(core: ApprovalCore, id: string): Promise<ApprovalRecord | undefined> {
  const r = await core.approvals.requests.get(id);
  if (r && (r.status === 'pending' || r.status === 'approved') && core.clock.now() >= r.expiresAt) {
    if (await core.approvals.requests.transition(id, ['pending', 'approved'], 'expired', 'no decision before expiry')) {
      await core.audit.append({ type: 'approval.expired', actor: 'approval-service', taskId: r.request.task_id, data: { approval_id: id } });
    }
    return core.approvals.requests.get(id);
  }
  return r;
}

/**
 * Records one approver's signed decision. The JWS must be by the approver's own key over this
 * request's digest; replays, outsiders (wrong group) and, unless policy allows it, the agent's
 * owner are refused. A denial ends the request; reaching the quorum approves it.
 */
export async function decide(core: ApprovalCore, approver: ApproverRecord, id: string, decisionJws: string) {
  const r = await current(core, id);
  if (!r) throw new StintError('not_found', 'no such approval request');
  let payload;
  try {
    ({ payload } = await verifyByApprover(core, approver.id, decisionJws, {
      algorithms: ACCEPTED_ALGS,
      currentDate: new Date(core.clock.now()),
      requiredClaims: ['iat', 'jti'],
      maxTokenAge: MAX_DECISION_AGE,
    }));
  } catch (e) {
    throw new StintError('invalid_request', `decision_jws is not a valid JWS by your key (${(e as Error).message})`, { cause: e });
  }
  if (payload.approval_id !== id) throw new StintError('invalid_request', 'decision_jws is for another approval request');
  if (payload.digest !== r.digest) throw new StintError('invalid_request', 'decision_jws digest does not match this request: the request is not what you signed');
  const decision = payload.decision;
  if (decision !== 'approve' && decision !== 'deny') throw new StintError('invalid_request', 'decision must be "approve" or "deny"');
  if (!(await core.store.replay.consume('decision', String(payload.jti), core.clock.now() + MAX_DECISION_AGE * 2000))) {
    throw new StintError('conflict', 'this decision was already submitted (jti replay)');
  }
  return recordDecision(core, approver, r, decision, String(payload.jti), 'jws');
}

/**
 * Counts one verified decision (a JWS by the approver's key, or a passkey assertion over the
 * request's digest and the decision) toward the request: the same rules for both.
 */
export async function recordDecision(core: ApprovalCore, approver: ApproverRecord, r: ApprovalRecord, decision: 'approve' | 'deny', jti: string, via: 'jws' | 'passkey') {
  const id = r.id;
  if (r.status !== 'pending') throw new StintError('conflict', `the request is ${r.status}`);
  if (!approver.groups.some((g) => r.groups.includes(g))) {
    throw new StintError('forbidden', `approvers for ${r.request.environment} come from ${r.groups.join(', ')}`);
  }
  if (!r.allowOwner && isOwner(approver, r)) {
    throw new StintError('forbidden', `${approver.name} owns the requesting agent and may not approve its requests`);
  }
  const at = core.clock.now();
  if (!(await core.approvals.decisions.add({ requestId: id, approverId: approver.id, decision, jti, at }))) {
    throw new StintError('conflict', 'you already decided this request');
  }
  await core.audit.append({ type: 'approval.decision', actor: approver.id, taskId: r.request.task_id, data: { approval_id: id, decision, approver: approver.name, digest: r.digest, via } });

  if (decision === 'deny') {
    if (await core.approvals.requests.transition(id, ['pending'], 'denied', `denied by ${approver.name}`)) {
      await core.audit.append({ type: 'approval.denied', actor: approver.id, taskId: r.request.task_id, data: { approval_id: id } });
    }
  } else {
    const approvals = (await core.approvals.decisions.list(id)).filter((d) => d.decision === 'approve');
    if (approvals.length >= r.quorum && (await core.approvals.requests.transition(id, ['pending'], 'approved', `quorum of ${r.quorum} reached`))) {
      await core.audit.append({ type: 'approval.approved', actor: approver.id, taskId: r.request.task_id, data: { approval_id: id, approvers: approvals.map((d) => d.approverId) } });
    }
  }
  return view(core, id);
}

/** The owner rule compares normalised names: "bob" owns what "Bob" or "ｂｏｂ" owns. */
export const isOwner = (approver: ApproverRecord, r: ApprovalRecord) => approver.nameKey === normaliseName(r.request.owner);

export async function view(core: ApprovalCore, id: string) {
  const r = await current(core, id);
  if (!r) throw new StintError('not_found', 'no such approval request');
  const decisions = await core.approvals.decisions.list(id);
  return approvalView(r, decisions.filter((d) => d.decision === 'approve').map((d) => d.approverId));
}
