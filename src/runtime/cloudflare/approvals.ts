// The approval service as its own Cloudflare Worker: its own D1 database, its own key (sealed
// under its own master key), its own admin token. The broker Worker never has any of them.
import { drizzle } from 'drizzle-orm/d1';
import { createNobleSealer } from '../../adapters/sealing/noble.js';
import { createApprovalStore } from '../../adapters/sqlite/approval-store.js';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import { compilePolicy } from '../../policy/load.js';
import { DEFAULT_RETENTION } from '../../core/retention.js';
import { createApprovalService } from '../../service/approvals.js';
import { decodeKey, required, retentionDays } from './env.js';
import { POLICY_SOURCES } from './policies.generated.js';

export interface ApprovalWorkerEnv {
  DB: Parameters<typeof drizzle>[0];
  /** The broker's issuer (the `iss` of grants and of the broker's internal calls). */
  STINT_ISSUER: string;
  /** Where this service is reached (approvers' `aud`). */
  STINT_APPROVAL_URL: string;
  /** Where the broker is reached (its JWKS; reports of agent credentials). */
  STINT_BROKER_URL: string;
  STINT_APPROVAL_ADMIN_TOKEN: string;
  STINT_APPROVAL_MASTER_KEY: string;
  /** The console's origin, if not STINT_APPROVAL_URL's. */
  STINT_APPROVAL_ORIGIN?: string;
  /** Whole days of audit kept here (0: for ever; default a year), as for the broker. */
  STINT_AUDIT_RETENTION_DAYS?: string;
  STINT_TASK_RETENTION_DAYS?: string;
  /** Service binding to the broker Worker (preferred over public HTTP). */
  BROKER?: { fetch: typeof fetch };
}

const policy = compilePolicy(POLICY_SOURCES);
let service: ReturnType<typeof createApprovalService> | undefined;

function serviceFor(env: ApprovalWorkerEnv) {
  return (service ??= (async () => {
    required(env, ['STINT_ISSUER', 'STINT_APPROVAL_URL', 'STINT_BROKER_URL', 'STINT_APPROVAL_ADMIN_TOKEN', 'STINT_APPROVAL_MASTER_KEY']);
    const db = drizzle(env.DB, { schema }) as unknown as SqliteDb;
    const viaBinding = env.BROKER ? (((input: RequestInfo | URL, init?: RequestInit) => env.BROKER!.fetch(input, init)) as typeof fetch) : undefined;
    const s = await createApprovalService({
      issuer: env.STINT_ISSUER,
      selfUrl: env.STINT_APPROVAL_URL,
      brokerUrl: env.STINT_BROKER_URL,
      store: createSqliteStore(db),
      approvals: createApprovalStore(db),
      sealer: createNobleSealer(decodeKey(env.STINT_APPROVAL_MASTER_KEY, 'STINT_APPROVAL_MASTER_KEY')),
      policy,
      adminToken: env.STINT_APPROVAL_ADMIN_TOKEN,
      fetch: viaBinding,
      origin: env.STINT_APPROVAL_ORIGIN ?? env.STINT_APPROVAL_URL,
      auditRetentionMs: retentionDays(env.STINT_AUDIT_RETENTION_DAYS, 'STINT_AUDIT_RETENTION_DAYS', DEFAULT_RETENTION.auditMs),
      requestRetentionMs: retentionDays(env.STINT_TASK_RETENTION_DAYS, 'STINT_TASK_RETENTION_DAYS', DEFAULT_RETENTION.tasksMs),
    });
    s.start();
    return s;
  })().catch((e) => {
    service = undefined;
    throw e;
  }));
}

export default {
  async fetch(request: Request, env: ApprovalWorkerEnv): Promise<Response> {
    return (await serviceFor(env)).app.fetch(request);
  },
  /** The Cron Trigger: housekeeping (expired replay rows in this service's D1). */
  async scheduled(_controller: unknown, env: ApprovalWorkerEnv): Promise<void> {
    const s = await serviceFor(env);
    while ((await s.maintenance()) > 0);
  },
};
