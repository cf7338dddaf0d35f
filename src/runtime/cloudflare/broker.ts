// The broker as a Cloudflare Worker: D1 for storage, noble for sealing, the same core and app.
import { drizzle } from 'drizzle-orm/d1';
import { createApprovalGateway } from '../../adapters/approval-gateway.js';
import { createNobleSealer } from '../../adapters/sealing/noble.js';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import { createCore } from '../../core/create.js';
import { createBrokerApp } from '../../http/broker-app.js';
import { compilePolicy } from '../../policy/load.js';
import { decodeKey, required } from './env.js';
import { POLICY_SOURCES } from './policies.generated.js';

export interface BrokerWorkerEnv {
  DB: Parameters<typeof drizzle>[0];
  STINT_ISSUER: string;
  STINT_ADMIN_TOKEN: string;
  /** 32 bytes, base64. */
  STINT_MASTER_KEY: string;
  STINT_APPROVAL_URL?: string;
  /** Service binding to the approval Worker (preferred over public HTTP). */
  APPROVALS?: { fetch: typeof fetch };
}

const policy = compilePolicy(POLICY_SOURCES);

// One core per isolate, built on the first request (bindings exist only then).
let app: Promise<ReturnType<typeof createBrokerApp>> | undefined;
function appFor(env: BrokerWorkerEnv) {
  return (app ??= (async () => {
    required(env, ['STINT_ISSUER', 'STINT_ADMIN_TOKEN', 'STINT_MASTER_KEY']);
    const store = createSqliteStore(drizzle(env.DB, { schema }) as unknown as SqliteDb);
    const core = await createCore({ issuer: env.STINT_ISSUER, store, sealer: createNobleSealer(decodeKey(env.STINT_MASTER_KEY, 'STINT_MASTER_KEY')), policy });
    const approvalUrl = env.STINT_APPROVAL_URL?.replace(/\/+$/, '');
    const viaBinding = env.APPROVALS ? ((input: RequestInfo | URL, init?: RequestInit) => env.APPROVALS!.fetch(input, init)) : undefined;
    if (approvalUrl) core.approvals = createApprovalGateway({ url: approvalUrl, issuer: core.issuer, keys: core.keys, clock: core.clock, fetch: viaBinding as typeof fetch | undefined });
    return createBrokerApp({ core, adminToken: env.STINT_ADMIN_TOKEN, approvalUrl });
  })().catch((e) => {
    app = undefined;
    throw e;
  }));
}


export default {
  async fetch(request: Request, env: BrokerWorkerEnv): Promise<Response> {
    return (await appFor(env)).fetch(request);
  },
};
