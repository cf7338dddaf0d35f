import type { JWK } from 'jose';
import type { ActionKey } from './approvals/find.js';
import type { ActionRequest } from './approvals/types.js';
import type { PollResult } from './approvals/poll.js';
import type { VoidScope } from './approvals/void.js';

export type OpenedApproval = { auth_req_id: string; expires_in: number; interval: number };

/** The broker's view of the approval service: it can ask, poll and void, never mint. */
export interface ApprovalGateway {
  open(clientId: string, req: ActionRequest): Promise<OpenedApproval>;
  /** Of `candidates` (newest first), the request still open for exactly this action, if any. */
  find(clientId: string, action: ActionKey, candidates: string[]): Promise<OpenedApproval | undefined>;
  /** `jkt`: the poller's DPoP key; a grant is only handed to the task's own key. */
  poll(id: string, clientId: string, jkt: string): Promise<PollResult>;
  void(scope: VoidScope, reason: string): Promise<void>;
  /** The approval authority's public key by `kid`, to verify grants. */
  key(kid: string): Promise<CryptoKey | undefined>;
  /** Its public JWKs, published beside the broker's own. */
  jwks(): Promise<JWK[]>;
}
