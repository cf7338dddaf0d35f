import type { ApprovalCore, ApproverRecord } from '../../core/approvals/types.js';

export interface ApprovalDeps {
  core: ApprovalCore;
  /** Bearer for registering approvers (STINT_APPROVAL_ADMIN_TOKEN). */
  adminToken: string;
  /** Where the broker is, to report agent credentials presented here. */
  brokerUrl: string;
  fetch?: typeof fetch;
}

/** One typed Env for every route of the approval service. */
export interface ApprovalEnv {
  Variables: {
    deps: ApprovalDeps;
    /** Set by `requireApprover` on the routes approvers call. */
    approver: ApproverRecord;
  };
}
