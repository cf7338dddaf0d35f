import type { ApprovalCore, ApproverRecord } from '../../core/approvals/types.js';
import type { RateLimitOptions } from '../rate-limit.js';
import type { Metrics, RequestLogger } from '../observability.js';

export interface ApprovalDeps {
  core: ApprovalCore;
  /** Bearer for registering approvers (STINT_APPROVAL_ADMIN_TOKEN). */
  adminToken: string;
  /** Where the broker is, to report agent credentials presented here. */
  brokerUrl: string;
  fetch?: typeof fetch;
  /**
   * The console's origin (STINT_APPROVAL_ORIGIN): passkeys are bound to it and enrolment links
   * point at it. Default: `selfUrl` with 127.0.0.1 read as localhost (browsers refuse passkeys
   * on IP-address origins).
   */
  origin?: string;
  /** How webhooks are reached (tests route them in-process). */
  webhookFetch?: typeof fetch;
  /** Webhooks may be on loopback or private addresses (STINT_ALLOW_PRIVATE_RECEIVERS=1). */
  allowPrivateReceivers?: boolean;
  /** Per-source limit on every route but the broker's internal calls (`false`: off). */
  rateLimit?: RateLimitOptions | false;
  /** Prometheus counters and latency histograms (default: none collected). */
  metrics?: Metrics;
  /** One JSON line per request. */
  requestLog?: RequestLogger;
}

export const consoleOrigin = (deps: ApprovalDeps) => (deps.origin ?? deps.core.selfUrl.replace('//127.0.0.1', '//localhost')).replace(/\/+$/, '');

/** One typed Env for every route of the approval service. */
export interface ApprovalEnv {
  Variables: {
    deps: ApprovalDeps;
    /** Set by `requireApprover` on the routes approvers call. */
    approver: ApproverRecord;
  };
}
