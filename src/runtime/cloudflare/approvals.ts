// The approval service as its own Cloudflare Worker: its own D1 database, its own key (sealed
// under its own master key), its own admin token. The broker Worker never has any of them.
import { drizzle } from 'drizzle-orm/d1';
import { RemoteKeySet } from '../../adapters/remote-keys.js';
import { createNobleSealer } from '../../adapters/sealing/noble.js';
import { createApprovalStore } from '../../adapters/sqlite/approval-store.js';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import type { ApprovalCore } from '../../core/approvals/types.js';
import { AuditLog } from '../../core/audit.js';
import { KeyRing } from '../../core/keys.js';
import { systemClock } from '../../core/ports.js';
import { guardStore } from '../../core/store-guard.js';
import { resealAll } from '../../core/vault.js';
import { createApprovalApp } from '../../http/approval-app.js';
import { compilePolicy } from '../../policy/load.js';
import { decodeKey, required } from './env.js';
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
  /** Service binding to the broker Worker (preferred over public HTTP). */
  BROKER?: { fetch: typeof fetch };
}

const policy = compilePolicy(POLICY_SOURCES);
let app: Promise<ReturnType<typeof createApprovalApp>> | undefined;

function appFor(env: ApprovalWorkerEnv) {
  return (app ??= (async () => {
    required(env, ['STINT_ISSUER', 'STINT_APPROVAL_URL', 'STINT_BROKER_URL', 'STINT_APPROVAL_ADMIN_TOKEN', 'STINT_APPROVAL_MASTER_KEY']);
    const db = drizzle(env.DB, { schema }) as unknown as SqliteDb;
    const store = guardStore(createSqliteStore(db));
    const sealer = createNobleSealer(decodeKey(env.STINT_APPROVAL_MASTER_KEY, 'STINT_APPROVAL_MASTER_KEY'));
    await resealAll(store, sealer, 'approval');
    const viaBinding = env.BROKER ? (((input: RequestInfo | URL, init?: RequestInit) => env.BROKER!.fetch(input, init)) as typeof fetch) : undefined;
    const brokerKeys = new RemoteKeySet(`${env.STINT_BROKER_URL.replace(/\/+$/, '')}/.well-known/jwks.json`, (kid) => !kid.startsWith('approval.'), viaBinding);
    const core: ApprovalCore = {
      issuer: env.STINT_ISSUER.replace(/\/+$/, ''),
      selfUrl: env.STINT_APPROVAL_URL.replace(/\/+$/, ''),
      store,
      approvals: guardStore(createApprovalStore(db)),
      clock: systemClock,
      policy,
      keys: await KeyRing.load(store, sealer, 'approval', systemClock),
      audit: new AuditLog(store, systemClock),
      brokerKey: (kid) => brokerKeys.key(kid),
    };
    return createApprovalApp({ core, adminToken: env.STINT_APPROVAL_ADMIN_TOKEN, brokerUrl: env.STINT_BROKER_URL, fetch: viaBinding, origin: env.STINT_APPROVAL_ORIGIN ?? env.STINT_APPROVAL_URL });
  })().catch((e) => {
    app = undefined;
    throw e;
  }));
}

export default {
  async fetch(request: Request, env: ApprovalWorkerEnv): Promise<Response> {
    return (await appFor(env)).fetch(request);
  },
};
