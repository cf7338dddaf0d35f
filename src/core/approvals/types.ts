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
  groups: string[];
  jwk: JWK;
  createdAt: number;
}

export interface DecisionRecord {
  requestId: string;
  approverId: string;
  decision: 'approve' | 'deny';
  jti: string;
  at: number;
}

/** The approval service's own storage; each method is one statement. */
export interface ApprovalStore {
  approvers: {
    create(a: ApproverRecord): Promise<void>;
    get(id: string): Promise<ApproverRecord | undefined>;
  };
  requests: {
    create(r: ApprovalRecord): Promise<void>;
    get(id: string): Promise<ApprovalRecord | undefined>;
    list(status: ApprovalStatus, limit: number): Promise<ApprovalRecord[]>;
    /** Moves a request from one of `from` to `to`; exactly one concurrent caller wins. */
    transition(id: string, from: ApprovalStatus[], to: ApprovalStatus, reason: string): Promise<boolean>;
    /** Records a poll; returns the previous poll time. */
    touch(id: string, at: number, interval: number): Promise<void>;
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
