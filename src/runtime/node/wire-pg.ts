// The broker and the approval service on PostgreSQL (STINT_DATABASE_URL / STINT_APPROVAL_DATABASE_URL):
// the same assembly as wire.ts's, with the PostgreSQL store, and for the broker the fan-out that
// puts every node's events on this node's streams.
import { createAwsSdkProvider } from '../../adapters/aws/sdk.js';
import { createPrometheusMetrics } from '../../adapters/metrics/prometheus.js';
import { nodeSigner } from '../../adapters/node-signer.js';
import { createPgApprovalStore } from '../../adapters/postgres/approval-store.js';
import { requireCurrent } from '../../adapters/postgres/current.js';
import { PgEventFanout } from '../../adapters/postgres/fanout.js';
import { openPostgres } from '../../adapters/postgres/node.js';
import { createPgStore } from '../../adapters/postgres/store.js';
import { createSodiumSealer } from '../../adapters/sealing/libsodium.js';
import type { Core } from '../../core/context.js';
import { awsProvider } from '../../core/providers/aws/provider.js';
import { repeat } from '../../core/purge.js';
import type { AuditRecord } from '../../core/ports.js';
import { MeteredEventHub, type Metrics } from '../../http/observability.js';
import { createApprovalService } from '../../service/approvals.js';
import { createBroker } from '../../service/broker.js';
import type { Service } from '../../service/types.js';
import type { NodeApprovalsOptions, NodeBrokerOptions } from './wire.js';

/** Node's schedule for housekeeping, as on SQLite: every node purges; rows go once whoever deletes them. */
const PURGE_EVERY_MS = 100;

export interface PgNodeOptions {
  /** `postgres://…`, optionally `?schema=name`. */
  databaseUrl: string;
  /** How often the log is read when no notification came (ms); default 250. */
  pollMs?: number;
}

/** A broker node on PostgreSQL: any number of them may share one database. */
export async function createNodeBrokerOnPostgres(o: Omit<NodeBrokerOptions, 'dbPath' | 'dbSync'> & PgNodeOptions) {
  const metrics = o.metrics ?? createPrometheusMetrics({ service: 'broker' });
  let fanout: PgEventFanout | undefined;
  let service: Service<Core, Awaited<ReturnType<typeof createBroker>>['app']> | undefined;
  // The broker is built while the start-up lock is held: a first start generates the signing
  // key, and nodes started together must find one key, not make one each.
  const pgc = await openPostgres(o.databaseUrl, {
    underLock: async (db, config, durability) => {
      const base = createPgStore(db, durability);
      const f = new PgEventFanout({ config, store: base, pollMs: o.pollMs });
      fanout = f;
      // This node's hub: metrics and reactions (SET push, approval voiding, provider revocation)
      // hear this node's own records once; the fan-out wakes the other nodes.
      const hub = new (class extends MeteredEventHub {
        override publish(record: AuditRecord): void {
          super.publish(record);
          f.publish(record);
        }
      })(metrics);
      service = await createBroker({
        events: hub,
        issuer: o.issuer,
        store: requireCurrent(base, f),
        sealer: await createSodiumSealer(o.masterKey, o.previousMasterKeys),
        policy: o.policy,
        clock: o.clock,
        signer: nodeSigner,
        rules: o.rules,
        adminToken: o.adminToken,
        providers: [awsProvider(o.aws ?? createAwsSdkProvider({ stsEndpoint: process.env.STINT_AWS_ENDPOINT, iamEndpoint: process.env.STINT_AWS_IAM_ENDPOINT, region: process.env.STINT_AWS_REGION }))],
        approval: o.approvalUrl ? { url: o.approvalUrl, fetch: o.approvalFetch } : undefined,
        setPush: { fetch: o.setFetch },
        retention: o.retention,
        http: {
          heartbeatMs: o.heartbeatMs,
          rateLimit: o.rateLimit,
          allowPrivateReceivers: o.allowPrivateReceivers,
          metrics,
          requestLog: o.requestLog,
          peerFetch: o.approvalFetch,
          fanout: f,
          readinessChecks: {
            current: async () => (f.current() ? { ok: true } : { ok: false, reason: `the database was last read ${f.lag()} ms ago` }),
          },
        },
      });
    },
  });
  const f = fanout!;
  await f.start();
  return runOnPostgres(service!, { close: async () => (await f.stop(), await pgc.close()), metrics, extra: { fanout: f, pool: pgc.pool } });
}

/** The approval service on PostgreSQL (its own database, or its own `?schema=`). */
export async function createNodeApprovalsOnPostgres(o: Omit<NodeApprovalsOptions, 'dbPath' | 'dbSync'> & PgNodeOptions) {
  const metrics = o.metrics ?? createPrometheusMetrics({ service: 'approvals' });
  let service: Awaited<ReturnType<typeof createApprovalService>> | undefined;
  const pgc = await openPostgres(o.databaseUrl, {
    underLock: async (db, _config, durability) => {
      service = await createApprovalService({
        events: { publish: (r) => metrics.record(r) },
        metrics,
        requestLog: o.requestLog,
        issuer: o.issuer,
        selfUrl: o.selfUrl,
        brokerUrl: o.brokerUrl,
        store: createPgStore(db, durability),
        approvals: createPgApprovalStore(db),
        sealer: await createSodiumSealer(o.masterKey, o.previousMasterKeys),
        policy: o.policy,
        adminToken: o.adminToken,
        clock: o.clock,
        signer: nodeSigner,
        fetch: o.fetch,
        rateLimit: o.rateLimit,
        origin: o.origin,
        webhookFetch: o.webhookFetch,
        auditRetentionMs: o.auditRetentionMs,
        auditArchive: o.auditArchive,
        requestRetentionMs: o.requestRetentionMs,
      });
    },
  });
  return runOnPostgres(service!, { close: () => pgc.close(), metrics, extra: { pool: pgc.pool } });
}

function runOnPostgres<C, A, X>(service: Service<C, A>, o: { close: () => Promise<void>; metrics: Metrics; extra: X }) {
  service.start();
  const stopMaintenance = repeat(service.maintenance, PURGE_EVERY_MS);
  return {
    app: service.app,
    core: service.core,
    metrics: o.metrics,
    ...o.extra,
    close: async () => {
      stopMaintenance();
      // Counts still in memory (routine calls, repeated refusals) are written before the store closes.
      await service.drain?.().catch(() => undefined);
      service.stop();
      return o.close();
    },
  };
}
