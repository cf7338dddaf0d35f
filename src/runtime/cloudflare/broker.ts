// The broker as a Cloudflare Worker: D1 for storage, noble for sealing, the same core and app.
import { drizzle } from 'drizzle-orm/d1';
import { createNobleSealer } from '../../adapters/sealing/noble.js';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import { createCore } from '../../core/create.js';
import { createBrokerApp } from '../../http/broker-app.js';
import { compilePolicy } from '../../policy/load.js';
import { POLICY_SOURCES } from './policies.generated.js';

export interface BrokerWorkerEnv {
  DB: Parameters<typeof drizzle>[0];
  STINT_ISSUER: string;
  STINT_ADMIN_TOKEN: string;
  /** 32 bytes, base64. */
  STINT_MASTER_KEY: string;
  STINT_APPROVAL_URL?: string;
}

const policy = compilePolicy(POLICY_SOURCES);

// One core per isolate, built on the first request (bindings exist only then).
let app: Promise<ReturnType<typeof createBrokerApp>> | undefined;
function appFor(env: BrokerWorkerEnv) {
  return (app ??= (async () => {
    for (const v of ['STINT_ISSUER', 'STINT_ADMIN_TOKEN', 'STINT_MASTER_KEY'] as const) if (!env[v]) throw new Error(`${v} is not set`);
    const master = decodeKey(env.STINT_MASTER_KEY);
    const store = createSqliteStore(drizzle(env.DB, { schema }) as unknown as SqliteDb);
    const core = await createCore({ issuer: env.STINT_ISSUER, store, sealer: createNobleSealer(master), policy });
    return createBrokerApp({ core, adminToken: env.STINT_ADMIN_TOKEN });
  })().catch((e) => {
    app = undefined;
    throw e;
  }));
}

function decodeKey(b64: string): Uint8Array {
  const k = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (k.length !== 32) throw new Error('STINT_MASTER_KEY must be 32 bytes, base64');
  return k;
}

export default {
  async fetch(request: Request, env: BrokerWorkerEnv): Promise<Response> {
    return (await appFor(env)).fetch(request);
  },
};
