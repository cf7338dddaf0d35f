import type { JWK } from 'jose';
import type { AuditLog } from '../audit.js';
import type { KeyRing } from '../keys.js';
import type { Policy } from '../policy.js';
import type { Clock, Store } from '../ports.js';

/** The exact action an approver is asked about. Its digest is what they sign. */
export interface ActionRequest {
  task_id: string;
  template: string;
  agent: string;
  agent_name: string;
  owner: string;
  environment: string;
  capability: string;
  resource: string;
  purpose: string;
  /** The DPoP key the grant will be bound to. */
  jkt: string;
  /** The task's trajectory when the request was made: grants, refusals, signals. */
  trajectory: { at: string; kind: string; detail: Record<string, unknown> }[];
  binding_message?: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'voided' | 'delivered';
/** Every status (the compiler checks the list is whole). */
export const APPROVAL_STATUSES = Object.keys({ pending: 1, approved: 1, denied: 1, expired: 1, voided: 1, delivered: 1 } satisfies Record<ApprovalStatus, 1>) as ApprovalStatus[];

export interface ApprovalRecord {
  id: string;
  clientId: string;
  request: ActionRequest;
  digest: string;
  quorum: number;
  groups: string[];
  allowOwner: boolean;
  status: ApprovalStatus;
  statusReason: string | null;
  interval: number;
  lastPollAt: number | null;
  createdAt: number;
  expiresAt: number;
}

export interface ApproverRecord {
  id: string;
  name: string;
  /** `name` normalised (NFKC, case-folded): unique among approvers; the owner rule compares it. */
  nameKey: string;
  groups: string[];
  createdAt: number;
}

/** One of an approver's keys: a JWK (request JWTs, decision JWSs) or a passkey (the console). */
export interface ApproverKey {
  kid: string;
  approverId: string;
  kind: 'jwk' | 'passkey';
  jwk: JWK | null;
  /** A passkey's COSE public key, base64url. */
  publicKey: string | null;
  counter: number;
  transports: string[] | null;
  createdAt: number;
  retiredAt: number | null;
}

export type ChallengePurpose = 'enrol' | 'signin' | 'decision' | 'keys';

export interface DecisionRecord {
  requestId: string;
  approverId: string;
  decision: 'approve' | 'deny';
  jti: string;
  at: number;
}

/** The approval service's own storage; each method is one statement. */
export interface ApprovalStore {
  /**
   * Drops up to `limit` expired rows of each of the console's short-lived tables (WebAuthn
   * challenges, sessions, enrolment links); says how many went. Anyone can make a challenge
   * row (sign-in options need no credential), so they must not outlive their TTL.
   */
  purge(now: number, limit: number): Promise<number>;
  approvers: {
    /** `false` when the normalised name is taken. */
    create(a: ApproverRecord): Promise<boolean>;
    get(id: string): Promise<ApproverRecord | undefined>;
    list(): Promise<ApproverRecord[]>;
  };
  keys: {
    /** `false` when this key is already registered (to anyone). */
    add(k: ApproverKey): Promise<boolean>;
    get(kid: string): Promise<ApproverKey | undefined>;
    /** The approver's live (unretired) keys. */
    list(approverId: string): Promise<ApproverKey[]>;
    /** Retires a live key; `false` if it is not a live key of this approver. */
    retire(approverId: string, kid: string, at: number): Promise<boolean>;
    /** Moves a passkey's signature counter from `from` to `to`; exactly one concurrent caller wins. */
    advanceCounter(kid: string, from: number, to: number): Promise<boolean>;
  };
  enrolments: {
    create(e: { tokenHash: string; approverId: string; expiresAt: number }): Promise<void>;
    /** The approver an unused, unexpired link is for. */
    peek(tokenHash: string, now: number): Promise<string | undefined>;
    /** Uses the link up; exactly one concurrent caller gets the approver id. */
    use(tokenHash: string, now: number): Promise<string | undefined>;
  };
  sessions: {
    create(s: { idHash: string; approverId: string; kid: string; createdAt: number; expiresAt: number }): Promise<void>;
    /** The approver of an unexpired session whose key is still live. */
    get(idHash: string, now: number): Promise<string | undefined>;
    delete(idHash: string): Promise<void>;
  };
  challenges: {
    put(c: { challenge: string; purpose: ChallengePurpose; subject: string; expiresAt: number }): Promise<void>;
    /** Takes an unexpired challenge (its subject); exactly one concurrent caller gets it. */
    take(challenge: string, purpose: ChallengePurpose, now: number): Promise<string | undefined>;
  };
  webhooks: {
    add(w: { id: string; url: string; createdAt: number }): Promise<void>;
    list(): Promise<{ id: string; url: string; createdAt: number }[]>;
    remove(id: string): Promise<boolean>;
  };
  requests: {
    create(r: ApprovalRecord): Promise<void>;
    get(id: string): Promise<ApprovalRecord | undefined>;
    /** Newest first. */
    list(status: ApprovalStatus, limit: number): Promise<ApprovalRecord[]>;
    /** Moves a request from one of `from` to `to`; exactly one concurrent caller wins. */
    transition(id: string, from: ApprovalStatus[], to: ApprovalStatus, reason: string): Promise<boolean>;
    /** Records a poll; returns the previous poll time. */
    touch(id: string, at: number, interval: number): Promise<void>;
    /**
     * Deletes up to `limit` requests created and expired before `before`, with their decisions;
     * says how many requests went. (Every decision is also in the audit log.)
     */
    prune(before: number, limit: number): Promise<number>;
  };
  decisions: {
    /** `false` if this approver already decided this request. */
    add(d: DecisionRecord): Promise<boolean>;
    list(requestId: string): Promise<DecisionRecord[]>;
  };
}

/** Everything the approval service's operations need. */
export interface ApprovalCore {
  /** The broker's issuer: grants carry it as `iss` so resource services accept them. */
  issuer: string;
  /** This service's URL, as on the ready line: the `aud` of approvers' request JWTs. */
  selfUrl: string;
  store: Store;
  approvals: ApprovalStore;
  clock: Clock;
  policy: Policy;
  /** The approval authority's keys (kid prefixed `approval.`). */
  keys: KeyRing;
  audit: AuditLog;
  /** Public keys the broker signs with, to check its internal calls and recognise agent tokens. */
  brokerKey: (kid: string) => Promise<CryptoKey | undefined>;
}
