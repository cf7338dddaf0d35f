import { RemoteKeySet } from '../adapters/remote-keys.js';
import type { ApprovalCore, ApprovalStore } from '../core/approvals/types.js';
import { AuditLog } from '../core/audit.js';
import { KeyRing, type SignerFactory } from '../core/keys.js';
import type { Policy } from '../core/policy.js';
import { systemClock, type Clock, type EventBus, type Sealer, type Store } from '../core/ports.js';
import type { Metrics, RequestLogger } from '../http/observability.js';
import { purgeRound } from '../core/purge.js';
import { DEFAULT_RETENTION, retentionRound, type RetentionOptions } from '../core/retention.js';
import { guardStore } from '../core/store-guard.js';
import { resealAll } from '../core/vault.js';
import { createApprovalApp } from '../http/approval-app.js';
import type { RateLimitOptions } from '../http/rate-limit.js';
import type { Background, Service } from './types.js';

export interface ApprovalPorts extends Background {
  /** The broker's issuer: the `iss` of grants, and of the broker's internal calls. */
  issuer: string;
  /** This service's URL as printed on the ready line (the `aud` approvers use). */
  selfUrl: string;
  /** Where to reach the broker (its JWKS, and reports of agent credentials). */
  brokerUrl: string;
  store: Store;
  approvals: ApprovalStore;
  /** Seals the approval authority's private key; never the broker's master key. */
  sealer: Sealer;
  policy: Policy;
  adminToken: string;
  clock?: Clock;
  signer?: SignerFactory;
  /** How to reach the broker (a service binding on Workers, in-process in tests). */
  fetch?: typeof fetch;
  /** Per-source limit (`false`: off). */
  rateLimit?: RateLimitOptions | false;
  /** The console's origin (passkeys are bound to it) and how webhooks are reached. */
  origin?: string;
  webhookFetch?: typeof fetch;
  /** Webhooks may be on loopback or private addresses (STINT_ALLOW_PRIVATE_RECEIVERS=1). */
  allowPrivateReceivers?: boolean;
  /** Where audit records go once written (metrics count them). */
  events?: EventBus;
  metrics?: Metrics;
  requestLog?: RequestLogger;
  /** How long audit records are kept here (ms, 0: for ever; default a year), cut under a checkpoint signed by this service's key. */
  auditRetentionMs?: number;
  /** Where this service's cut audit records go before they are deleted (core/retention.ts). */
  auditArchive?: RetentionOptions['archive'];
  /** How long approval requests (and their decisions) are kept after they expired (ms, 0: for ever; default the tasks' 30 days). */
  requestRetentionMs?: number;
}

/** The approval service from its ports: its own key, its own stores, the same on every runtime. */
export async function createApprovalService(p: ApprovalPorts): Promise<Service<ApprovalCore, ReturnType<typeof createApprovalApp>>> {
  const clock = p.clock ?? systemClock;
  const store = guardStore(p.store);
  await resealAll(store, p.sealer, 'approval');
  const keys = await KeyRing.load(store, p.sealer, 'approval', clock, p.signer);
  const brokerUrl = p.brokerUrl.replace(/\/+$/, '');
  const brokerKeys = new RemoteKeySet(`${brokerUrl}/.well-known/jwks.json`, (kid) => !kid.startsWith('approval.'), p.fetch);
  const core: ApprovalCore = {
    issuer: p.issuer.replace(/\/+$/, ''),
    selfUrl: p.selfUrl.replace(/\/+$/, ''),
    store,
    approvals: guardStore(p.approvals),
    clock,
    policy: p.policy,
    keys,
    audit: new AuditLog(store, clock, p.events, keys),
    brokerKey: (kid) => brokerKeys.key(kid),
  };
  const app = createApprovalApp({ core, adminToken: p.adminToken, brokerUrl, fetch: p.fetch, rateLimit: p.rateLimit, origin: p.origin, webhookFetch: p.webhookFetch, allowPrivateReceivers: p.allowPrivateReceivers, metrics: p.metrics, requestLog: p.requestLog });
    // The broker-shaped tables (replay, revocations), then the console's (challenges, sessions, enrolment links).
  // This service's own audit chain is cut like the broker's, under checkpoints signed by its key.
  const retention = { tasksMs: 0, auditMs: p.auditRetentionMs ?? DEFAULT_RETENTION.auditMs, archive: p.auditArchive };
  // Requests go with the tasks they were for (every decision stays in the audit log); 50 a round:
  // the ids are bound parameters, and D1 takes at most 100 in a statement.
  const requestsMs = p.requestRetentionMs ?? DEFAULT_RETENTION.tasksMs;
  const pruneRequests = () => (requestsMs > 0 ? core.approvals.requests.prune(clock.now() - requestsMs, 50) : Promise.resolve(0));
  const maintenance = async () =>
    (await purgeRound(store, clock)) + (await purgeRound(core.approvals, clock)) + (await pruneRequests()) + (await retentionRound({ store, clock, keys, issuer: core.selfUrl }, retention));
  return { core, app, start: () => {}, stop: () => {}, maintenance };
}
