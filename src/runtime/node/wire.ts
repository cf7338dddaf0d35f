import type Database from 'better-sqlite3';
import { createSodiumSealer } from '../../adapters/sealing/libsodium.js';
import { nodeSigner } from '../../adapters/node-signer.js';
import { openSqlite } from '../../adapters/sqlite/node.js';
import { startPurge } from '../../core/purge.js';
import { GroupCommit } from '../../adapters/sqlite/group-commit.js';
import { withNativeHotPaths } from '../../adapters/sqlite/node-hot.js';
import { createSqliteStore } from '../../adapters/sqlite/store.js';
import { createApprovalGateway } from '../../adapters/approval-gateway.js';
import { createAwsSdkProvider } from '../../adapters/aws/sdk.js';
import { startApprovalVoiding } from '../../core/approval-voiding.js';
import { startAwsRevocation, type AwsProvider } from '../../core/aws.js';
import { createCore } from '../../core/create.js';
import { startSetPush } from '../../core/set.js';
import type { Policy } from '../../core/policy.js';
import { systemClock, type Clock } from '../../core/ports.js';
import { createApprovalStore } from '../../adapters/sqlite/approval-store.js';
import { RemoteKeySet } from '../../adapters/remote-keys.js';
import type { ApprovalCore } from '../../core/approvals/types.js';
import { AuditLog } from '../../core/audit.js';
import { KeyRing } from '../../core/keys.js';
import { guardStore } from '../../core/store-guard.js';
import { resealAll } from '../../core/vault.js';
import { createApprovalApp } from '../../http/approval-app.js';
import { createBrokerApp } from '../../http/broker-app.js';
import { createPrometheusMetrics } from '../../adapters/metrics/prometheus.js';
import { MeteredEventHub, type Metrics, type RequestLogger } from '../../http/observability.js';

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
  aws?: AwsProvider;
  /** Metrics (default: a Prometheus registry of this instance's own). */
  metrics?: Metrics;
  /** One JSON line per request (default: none). */
  requestLog?: RequestLogger;
}

/** How long a failed provider revocation keeps /readyz not ready, ms. */
const PROVIDER_FAILURE_WINDOW = 5 * 60_000;

/** The broker on Node: SQLite file, libsodium sealing, the Hono app. */
export async function createNodeBroker(o: NodeBrokerOptions) {
  const { db, sqlite, close } = openSqlite(o.dbPath, o.dbSync);
  const group = new GroupCommit(sqlite);
  const store = withNativeHotPaths(createSqliteStore(db), sqlite, group);
  const metrics = o.metrics ?? createPrometheusMetrics({ service: 'broker' });
  const core = await createCore({ issuer: o.issuer, store, sealer: await createSodiumSealer(o.masterKey, o.previousMasterKeys), policy: o.policy, clock: o.clock, signer: nodeSigner, events: new MeteredEventHub(metrics) });
  group.onRollback(() => core.audit.reset());
  core.aws = o.aws ?? createAwsSdkProvider({ stsEndpoint: process.env.STINT_AWS_ENDPOINT, iamEndpoint: process.env.STINT_AWS_IAM_ENDPOINT, region: process.env.STINT_AWS_REGION });
  if (o.approvalUrl) core.approvals = createApprovalGateway({ url: o.approvalUrl, issuer: core.issuer, keys: core.keys, clock: core.clock, fetch: o.approvalFetch });
  const stopPush = startSetPush(core, { fetch: o.setFetch });
  const stopVoiding = startApprovalVoiding(core);
  let providerFailure: { at: number; message: string } | undefined;
  const stopAws = startAwsRevocation(core, (m) => {
    providerFailure = { at: Date.now(), message: m };
    console.error(m);
  });
  // Expired replay and revocation rows are dropped in the background; they are inert anyway.
  const stopPurge = startPurge(store, core.clock);
  const app = createBrokerApp({
    core,
    adminToken: o.adminToken,
    heartbeatMs: o.heartbeatMs,
    approvalUrl: o.approvalUrl?.replace(/\/+$/, ''),
    metrics,
    requestLog: o.requestLog,
    peerFetch: o.approvalFetch,
    readinessChecks: {
      provider_revocations: async () =>
        providerFailure && Date.now() - providerFailure.at < PROVIDER_FAILURE_WINDOW ? { ok: false, reason: `a provider revocation failed: ${providerFailure.message}` } : { ok: true },
    },
  });
  return {
    app,
    core,
    metrics,
    sqlite: sqlite as Database.Database,
    close: () => {
      stopPush();
      stopVoiding();
      stopAws();
      stopPurge();
      return close();
    },
  };
}

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
  metrics?: Metrics;
  requestLog?: RequestLogger;
}

/** The approval service on Node: its own SQLite file, its own sealed key, the Hono app. */
export async function createNodeApprovals(o: NodeApprovalsOptions) {
  const { db, sqlite, close } = openSqlite(o.dbPath, o.dbSync);
  const clock = o.clock ?? systemClock;
  const metrics = o.metrics ?? createPrometheusMetrics({ service: 'approvals' });
  const group = new GroupCommit(sqlite);
  const store = guardStore(withNativeHotPaths(createSqliteStore(db), sqlite, group));
  const sealer = await createSodiumSealer(o.masterKey, o.previousMasterKeys);
  await resealAll(store, sealer, 'approval');
  const keys = await KeyRing.load(store, sealer, 'approval', clock, nodeSigner);
  const brokerKeys = new RemoteKeySet(`${o.brokerUrl.replace(/\/+$/, '')}/.well-known/jwks.json`, (kid) => !kid.startsWith('approval.'), o.fetch);
  const core: ApprovalCore = {
    issuer: o.issuer.replace(/\/+$/, ''),
    selfUrl: o.selfUrl.replace(/\/+$/, ''),
    store,
    approvals: guardStore(createApprovalStore(db)),
    clock,
    policy: o.policy,
    keys,
    audit: new AuditLog(store, clock, { publish: (r) => metrics.record(r) }),
    brokerKey: (kid) => brokerKeys.key(kid),
  };
  group.onRollback(() => core.audit.reset());
  const app = createApprovalApp({ core, adminToken: o.adminToken, brokerUrl: o.brokerUrl, fetch: o.fetch, metrics, requestLog: o.requestLog });
  return { app, core, metrics, sqlite: sqlite as Database.Database, close };
}
