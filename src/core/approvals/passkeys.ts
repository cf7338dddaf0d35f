import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { base64url } from 'jose';
import { canonicalJson, randomId, sha256 } from '../encoding.js';
import { StintError } from '../errors.js';
import { retireApproverKey } from './approvers.js';
import { current, recordDecision } from './decide.js';
import type { ApprovalCore, ApproverKey, ApproverRecord } from './types.js';

/** Where passkeys are valid: the console's origin and its host as the relying party id. */
export interface RelyingParty {
  origin: string;
  rpID: string;
  rpName: string;
}

export const relyingParty = (origin: string): RelyingParty => ({ origin: origin.replace(/\/+$/, ''), rpID: new URL(origin).hostname, rpName: 'stint approvals' });

/** How long an enrolment link stays usable, seconds. */
export const ENROLMENT_TTL = 24 * 3600;
/** How long a WebAuthn ceremony may take, seconds. */
export const CHALLENGE_TTL = 300;

const refuse = (why: string, cause?: unknown): never => {
  throw new StintError('unauthorized', why, { cause });
};

/** The challenge the authenticator returns, read from clientDataJSON (base64url). */
function challengeOf(response: { response: { clientDataJSON: string } }): string {
  try {
    const data = JSON.parse(new TextDecoder().decode(base64url.decode(response.response.clientDataJSON))) as { challenge?: unknown };
    if (typeof data.challenge === 'string') return data.challenge;
  } catch {
    // refused below
  }
  return refuse('the WebAuthn response carries no readable challenge');
}

// ——— Enrolment: a one-time link from the approval admin ———

export async function createEnrolment(core: ApprovalCore, rp: RelyingParty, approverId: string, by: { actor: string; stepUpKid?: string } = { actor: 'approval-admin' }) {
  const a = await core.approvals.approvers.get(approverId);
  if (!a) throw new StintError('not_found', 'no such approver');
  const token = randomId('', 32);
  await core.approvals.enrolments.create({ tokenHash: sha256(token), approverId, expiresAt: core.clock.now() + ENROLMENT_TTL * 1000 });
  await core.audit.append({ type: 'approver.enrolment_created', actor: by.actor, data: { approver: approverId, ...(by.stepUpKid ? { step_up_kid: by.stepUpKid } : {}) } });
  return { url: `${rp.origin}/enrol/${token}`, expires_in: ENROLMENT_TTL };
}

/** The approver an enrolment link is for, if it is still usable. */
export async function enrolmentApprover(core: ApprovalCore, token: string): Promise<ApproverRecord | undefined> {
  const id = await core.approvals.enrolments.peek(sha256(token), core.clock.now());
  return id ? core.approvals.approvers.get(id) : undefined;
}

export async function enrolmentOptions(core: ApprovalCore, rp: RelyingParty, token: string) {
  const a = await enrolmentApprover(core, token);
  if (!a) return refuse('this enrolment link is used up, expired or unknown: ask the approval admin for a new one');
  const existing = await core.approvals.keys.list(a.id);
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: a.name,
    userID: new Uint8Array(new TextEncoder().encode(a.id)),
    attestationType: 'none',
    excludeCredentials: existing.filter((k) => k.kind === 'passkey').map((k) => ({ id: k.kid, transports: k.transports ?? undefined })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    timeout: CHALLENGE_TTL * 1000,
  });
  await core.approvals.challenges.put({ challenge: options.challenge, purpose: 'enrol', subject: sha256(token), expiresAt: core.clock.now() + CHALLENGE_TTL * 1000 });
  return options;
}

export async function enrol(core: ApprovalCore, rp: RelyingParty, token: string, response: RegistrationResponseJSON): Promise<{ approver: ApproverRecord; kid: string }> {
  const challenge = challengeOf(response);
  const subject = await core.approvals.challenges.take(challenge, 'enrol', core.clock.now());
  if (!subject || subject !== sha256(token)) refuse('this enrolment ceremony is unknown, expired or already answered');
  let verified;
  try {
    verified = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.rpID, requireUserVerification: true });
  } catch (e) {
    return refuse(`the passkey could not be verified (${(e as Error).message})`, e);
  }
  if (!verified.verified) refuse('the passkey could not be verified');
  const approverId = await core.approvals.enrolments.use(sha256(token), core.clock.now());
  if (!approverId) return refuse('this enrolment link is used up or expired');
  const { credential } = verified.registrationInfo!;
  const key: ApproverKey = {
    kid: credential.id,
    approverId,
    kind: 'passkey',
    jwk: null,
    publicKey: base64url.encode(credential.publicKey),
    counter: credential.counter,
    transports: credential.transports ?? null,
    createdAt: core.clock.now(),
    retiredAt: null,
  };
  if (!(await core.approvals.keys.add(key))) throw new StintError('conflict', 'this passkey is already registered');
  await core.audit.append({ type: 'approver.key_added', actor: approverId, data: { approver: approverId, kid: key.kid, kind: 'passkey' } });
  return { approver: (await core.approvals.approvers.get(approverId))!, kid: key.kid };
}

// ——— Assertions: sign-in and decisions ———

async function verifyAssertion(core: ApprovalCore, rp: RelyingParty, response: AuthenticationResponseJSON, challenge: string, approverId?: string) {
  const key = await core.approvals.keys.get(response.id);
  if (!key || key.kind !== 'passkey' || key.retiredAt !== null || !key.publicKey) return refuse('unknown or retired passkey');
  if (approverId && key.approverId !== approverId) return refuse('this passkey belongs to another approver');
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: { id: key.kid, publicKey: new Uint8Array(base64url.decode(key.publicKey)), counter: key.counter, transports: key.transports ?? undefined },
      requireUserVerification: true,
    });
  } catch (e) {
    return refuse(`the passkey assertion could not be verified (${(e as Error).message})`, e);
  }
  if (!verified.verified) refuse('the passkey assertion could not be verified');
  const { newCounter } = verified.authenticationInfo;
  // A counter that does not move forward is a cloned authenticator (or a replay); authenticators
  // that keep no counter report 0 throughout.
  if ((newCounter !== 0 || key.counter !== 0) && !(await core.approvals.keys.advanceCounter(key.kid, key.counter, newCounter))) {
    refuse('the passkey signature counter did not advance: assertion refused');
  }
  const approver = await core.approvals.approvers.get(key.approverId);
  if (!approver) return refuse('unknown approver');
  return approver;
}

export async function signInOptions(core: ApprovalCore, rp: RelyingParty) {
  const options = await generateAuthenticationOptions({ rpID: rp.rpID, userVerification: 'required', timeout: CHALLENGE_TTL * 1000 });
  await core.approvals.challenges.put({ challenge: options.challenge, purpose: 'signin', subject: '-', expiresAt: core.clock.now() + CHALLENGE_TTL * 1000 });
  return options;
}

export async function signIn(core: ApprovalCore, rp: RelyingParty, response: AuthenticationResponseJSON): Promise<ApproverRecord> {
  const challenge = challengeOf(response);
  if (!(await core.approvals.challenges.take(challenge, 'signin', core.clock.now()))) refuse('this sign-in ceremony is unknown, expired or already answered');
  const approver = await verifyAssertion(core, rp, response, challenge);
  await core.audit.append({ type: 'approver.signed_in', actor: approver.id, data: { kid: response.id } });
  return approver;
}

/**
 * The challenge of a decision: a hash over the request's id and digest, the decision and a
 * fresh nonce. The authenticator signs it (inside clientDataJSON), so the assertion binds
 * exactly this request as it stands and this answer, once.
 */
export const decisionChallenge = (approvalId: string, digest: string, decision: 'approve' | 'deny', nonce: string) =>
  sha256(canonicalJson({ approval_id: approvalId, digest, decision, nonce }));

export async function decisionOptions(core: ApprovalCore, rp: RelyingParty, approver: ApproverRecord, approvalId: string, decision: 'approve' | 'deny') {
  const r = await current(core, approvalId);
  if (!r) throw new StintError('not_found', 'no such approval request');
  if (r.status !== 'pending') throw new StintError('conflict', `the request is ${r.status}`);
  const passkeys = (await core.approvals.keys.list(approver.id)).filter((k) => k.kind === 'passkey');
  if (passkeys.length === 0) throw new StintError('forbidden', 'you have no passkey: enrol one first');
  const nonce = randomId('', 16);
  const challenge = decisionChallenge(r.id, r.digest, decision, nonce);
  const options = await generateAuthenticationOptions({
    rpID: rp.rpID,
    challenge: new Uint8Array(base64url.decode(challenge)),
    userVerification: 'required',
    allowCredentials: passkeys.map((k) => ({ id: k.kid, transports: k.transports ?? undefined })),
    timeout: CHALLENGE_TTL * 1000,
  });
  await core.approvals.challenges.put({
    challenge: options.challenge,
    purpose: 'decision',
    subject: JSON.stringify({ approver: approver.id, approval_id: r.id, decision, digest: r.digest, nonce }),
    expiresAt: core.clock.now() + CHALLENGE_TTL * 1000,
  });
  return options;
}

/**
 * A decision by passkey: the assertion's challenge must be one handed out for this approver,
 * request, digest and decision, and unanswered (a replayed assertion finds it taken); it is
 * then counted toward the quorum exactly like a JWS decision.
 */
export async function decideWithPasskey(core: ApprovalCore, rp: RelyingParty, approver: ApproverRecord, approvalId: string, decision: 'approve' | 'deny', response: AuthenticationResponseJSON) {
  const challenge = challengeOf(response);
  const subject = await core.approvals.challenges.take(challenge, 'decision', core.clock.now());
  if (!subject) throw new StintError('conflict', 'this assertion was already used, or its challenge expired: a decision is signed once');
  const s = JSON.parse(subject) as { approver: string; approval_id: string; decision: string; digest: string; nonce: string };
  if (s.approver !== approver.id || s.approval_id !== approvalId || s.decision !== decision) {
    throw new StintError('invalid_request', 'this assertion is for another approver, request or decision');
  }
  const r = await current(core, approvalId);
  if (!r) throw new StintError('not_found', 'no such approval request');
  if (decisionChallenge(r.id, r.digest, decision, s.nonce) !== challenge) {
    throw new StintError('invalid_request', 'the assertion does not bind this request’s digest: the request is not what you signed');
  }
  await verifyAssertion(core, rp, response, challenge, approver.id);
  return recordDecision(core, approver, r, decision, `webauthn:${challenge}`, 'passkey');
}

// ——— Changing one's own keys: a fresh assertion by a live passkey of the same approver ———

/**
 * What an approver asks to change about their keys from the console. A session cookie alone is
 * not enough for either: whoever holds the cookie (a dev server on another localhost port sees
 * it; so does anything that can read the browser's profile) would otherwise enrol a passkey of
 * their own and retire the real one. Each change is signed, at the moment it is made, by a live
 * passkey of that approver, over a challenge bound to the approver, the change and its key.
 */
export type KeyChange = { op: 'add' } | { op: 'retire'; kid: string };

const changeSubject = (approverId: string, change: KeyChange) => JSON.stringify({ approver: approverId, op: change.op, kid: change.op === 'retire' ? change.kid : null });

export async function keyChangeOptions(core: ApprovalCore, rp: RelyingParty, approver: ApproverRecord, change: KeyChange) {
  const passkeys = (await core.approvals.keys.list(approver.id)).filter((k) => k.kind === 'passkey');
  if (passkeys.length === 0) throw new StintError('forbidden', 'you have no passkey to confirm this with: ask the approval admin for an enrolment link');
  const options = await generateAuthenticationOptions({
    rpID: rp.rpID,
    userVerification: 'required',
    allowCredentials: passkeys.map((k) => ({ id: k.kid, transports: k.transports ?? undefined })),
    timeout: CHALLENGE_TTL * 1000,
  });
  await core.approvals.challenges.put({ challenge: options.challenge, purpose: 'keys', subject: changeSubject(approver.id, change), expiresAt: core.clock.now() + CHALLENGE_TTL * 1000 });
  return options;
}

/** Checks the step-up assertion for `change` (taken once); says which passkey signed it. */
async function confirmKeyChange(core: ApprovalCore, rp: RelyingParty, approver: ApproverRecord, change: KeyChange, response: AuthenticationResponseJSON): Promise<string> {
  const challenge = challengeOf(response);
  const subject = await core.approvals.challenges.take(challenge, 'keys', core.clock.now());
  if (!subject) return refuse('confirm the change with your passkey first (this confirmation is unknown, expired or already used)');
  if (subject !== changeSubject(approver.id, change)) refuse('this confirmation was for another approver, change or key');
  await verifyAssertion(core, rp, response, challenge, approver.id);
  return response.id;
}

/** A new enrolment link for the signed-in approver, confirmed by one of their passkeys. */
export async function addPasskeyConfirmed(core: ApprovalCore, rp: RelyingParty, approver: ApproverRecord, response: AuthenticationResponseJSON) {
  const kid = await confirmKeyChange(core, rp, approver, { op: 'add' }, response);
  return createEnrolment(core, rp, approver.id, { actor: approver.id, stepUpKid: kid });
}

/** Retires one of the signed-in approver's keys, confirmed by one of their passkeys. */
export async function retireKeyConfirmed(core: ApprovalCore, rp: RelyingParty, approver: ApproverRecord, kid: string, response: AuthenticationResponseJSON) {
  await confirmKeyChange(core, rp, approver, { op: 'retire', kid }, response);
  await retireApproverKey(core, approver.id, kid, approver.id);
}
