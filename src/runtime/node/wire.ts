import { createSodiumSealer } from '../../adapters/sealing/libsodium.js';
import { nodeSigner } from '../../adapters/node-signer.js';
import { openSqlite } from '../../adapters/sqlite/node.js';
import { GroupCommit } from '../../adapters/sqlite/group-commit.js';
import { withNativeHotPaths } from '../../adapters/sqlite/node-hot.js';
import { createSqliteStore } from '../../adapters/sqlite/store.js';
import { createAwsSdkProvider } from '../../adapters/aws/sdk.js';
import { awsProvider, type AwsApi } from '../../core/providers/aws/provider.js';
import { createBroker } from '../../service/broker.js';
import { createApprovalService } from '../../service/approvals.js';
import type { Service } from '../../service/types.js';
import { repeat } from '../../core/purge.js';
import type { Policy } from '../../core/policy.js';
import type { AnyRule } from '../../core/rules/registry.js';
import type { Clock } from '../../core/ports.js';
import { createApprovalStore } from '../../adapters/sqlite/approval-store.js';
import type { BrokerLimitOptions, RateLimitOptions } from '../../http/rate-limit.js';
import type Database from 'better-sqlite3';
import { createPrometheusMetrics } from '../../adapters/metrics/prometheus.js';
import { MeteredEventHub, type Metrics, type RequestLogger } from '../../http/observability.js';
import type { RetentionOptions } from '../../core/retention.js';

export interface NodeBrokerOptions {
  dbPath: string;
  policy: Policy;
  issuer: string;
  adminToken: string;
  masterKey: Uint8Array;
  /** Master keys being rotated out. */
  previousMasterKeys?: Uint8Array[];
  clock?: Clock;
  /** SSE heartbeat interval on /v1/events, ms. */
  heartbeatMs?: number;
  dbSync?: 'normal' | 'full';
  /** How SETs are delivered (tests point it at an in-process receiver). */
  setFetch?: typeof fetch;
  /** The approval service's URL; without it destructive capabilities cannot be granted. */
  approvalUrl?: string;
  /** How to reach it (tests route it in-process). */
  approvalFetch?: typeof fetch;
  /** The AWS port (default: the SDK, pointed at STINT_AWS_ENDPOINT / STINT_AWS_IAM_ENDPOINT if set). */
  aws?: AwsApi;
  /** Waits between attempts at a role's deny policy (tests: zeros). */
  awsRetryDelaysMs?: number[];
  /** The rules enforced (default: the registry's). */
  rules?: readonly AnyRule[];
  /** Per-source limit on /token and /bc-authorize (`false`: off). */
  rateLimit?: BrokerLimitOptions | false;
  /** STINT_TASK_RETENTION_DAYS / STINT_AUDIT_RETENTION_DAYS (core/retention.ts). */
  retention?: Partial<RetentionOptions>;
  /** SET receivers may be on loopback or private addresses. */
  allowPrivateReceivers?: boolean;
  /** Metrics (default: a Prometheus registry of this instance's own). */
  metrics?: Metrics;
  /** One JSON line per request (default: none). */
  requestLog?: RequestLogger;
}

/** The broker on Node: SQLite file, libsodium sealing, node:crypto signing; the assembly is createBroker's. */
export async function createNodeBroker(o: NodeBrokerOptions) {
  const { db, sqlite, close } = openSqlite(o.dbPath, o.dbSync);
  const group = new GroupCommit(sqlite);
  const store = withNativeHotPaths(createSqliteStore(db), sqlite, group);
  const metrics = o.metrics ?? createPrometheusMetrics({ service: 'broker' });
  const broker = await createBroker({
    events: new MeteredEventHub(metrics),
    issuer: o.issuer,
    store,
    sealer: await createSodiumSealer(o.masterKey, o.previousMasterKeys),
    policy: o.policy,
    clock: o.clock,
    signer: nodeSigner,
    rules: o.rules,
    adminToken: o.adminToken,
    providers: [awsProvider(o.aws ?? createAwsSdkProvider({ stsEndpoint: process.env.STINT_AWS_ENDPOINT, iamEndpoint: process.env.STINT_AWS_IAM_ENDPOINT, region: process.env.STINT_AWS_REGION }), { retryDelaysMs: o.awsRetryDelaysMs })],
    approval: o.approvalUrl ? { url: o.approvalUrl, fetch: o.approvalFetch } : undefined,
    setPush: { fetch: o.setFetch },
    retention: o.retention,
    http: { heartbeatMs: o.heartbeatMs, rateLimit: o.rateLimit, allowPrivateReceivers: o.allowPrivateReceivers, metrics, requestLog: o.requestLog, peerFetch: o.approvalFetch },
  });
  return runOnNode(broker, { group, sqlite, close, metrics });
}

/** Node's schedule for a service's housekeeping: small rounds often, so no delete stalls a request. */
const PURGE_EVERY_MS = 100;

export interface NodeApprovalsOptions {
  dbPath: string;
  policy: Policy;
  /** The broker's issuer: the `iss` of grants, and of the broker's internal calls. */
  issuer: string;
  /** This service's URL as printed on the ready line (the `aud` approvers use). */
  selfUrl: string;
  /** Where to reach the broker (its JWKS, and reports of agent credentials). */
  brokerUrl: string;
  adminToken: string;
  /** Seals the approval authority's private key; never the broker's master key. */
  masterKey: Uint8Array;
  previousMasterKeys?: Uint8Array[];
  clock?: Clock;
  fetch?: typeof fetch;
  dbSync?: 'normal' | 'full';
  /** Per-source limit on the approval service (`false`: off). */
  rateLimit?: RateLimitOptions | false;
  /** The console's origin (STINT_APPROVAL_ORIGIN); default: selfUrl with 127.0.0.1 read as localhost. */
  origin?: string;
  /** How webhooks are reached (tests route them in-process). */
  webhookFetch?: typeof fetch;
  /** Webhooks may be on loopback or private addresses (STINT_ALLOW_PRIVATE_RECEIVERS=1). */
  allowPrivateReceivers?: boolean;
  metrics?: Metrics;
  requestLog?: RequestLogger;
  /** STINT_AUDIT_RETENTION_DAYS, in ms (0: for ever). */
  auditRetentionMs?: number;
  auditArchive?: RetentionOptions['archive'];
  /** STINT_TASK_RETENTION_DAYS, in ms: approval requests go with their tasks (0: for ever). */
  requestRetentionMs?: number;
}

/** The approval service on Node: its own SQLite file, its own sealed key; the assembly is createApprovalService's. */
export async function createNodeApprovals(o: NodeApprovalsOptions) {
  const { db, sqlite, close } = openSqlite(o.dbPath, o.dbSync);
  const group = new GroupCommit(sqlite);
  const metrics = o.metrics ?? createPrometheusMetrics({ service: 'approvals' });
  const service = await createApprovalService({
    events: { publish: (r) => metrics.record(r) },
    metrics,
    requestLog: o.requestLog,
    issuer: o.issuer,
    selfUrl: o.selfUrl,
    brokerUrl: o.brokerUrl,
    store: withNativeHotPaths(createSqliteStore(db), sqlite, group),
    approvals: createApprovalStore(db),
    sealer: await createSodiumSealer(o.masterKey, o.previousMasterKeys),
    policy: o.policy,
    adminToken: o.adminToken,
    clock: o.clock,
    signer: nodeSigner,
    fetch: o.fetch,
    rateLimit: o.rateLimit,
    origin: o.origin,
    webhookFetch: o.webhookFetch,
    allowPrivateReceivers: o.allowPrivateReceivers,
    auditRetentionMs: o.auditRetentionMs,
    auditArchive: o.auditArchive,
    requestRetentionMs: o.requestRetentionMs,
  });
  return runOnNode(service, { group, sqlite, close, metrics });
}

/**
 * A service on Node: a rolled-back group commit resets the audit chain's head, reactions start,
 * housekeeping runs on a timer, and closing stops both before the database.
 */
function runOnNode<C extends { audit: { reset(): void } }, A>(service: Service<C, A>, o: { group: GroupCommit; sqlite: unknown; close: () => void; metrics: Metrics }) {
  o.group.onRollback(() => service.core.audit.reset());
  service.start();
  const stopMaintenance = repeat(service.maintenance, PURGE_EVERY_MS);
  return {
    app: service.app,
    core: service.core,
    metrics: o.metrics,
    sqlite: o.sqlite as Database.Database,
    close: async () => {
      stopMaintenance();
      // Counts still in memory (routine calls, repeated refusals) are written before the store closes.
      await service.drain?.().catch(() => undefined);
      service.stop();
      return o.close();
    },
  };
}
