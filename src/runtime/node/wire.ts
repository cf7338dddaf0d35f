import { createSodiumSealer } from '../../adapters/sealing/libsodium.js';
import { openSqlite } from '../../adapters/sqlite/node.js';
import { createSqliteStore } from '../../adapters/sqlite/store.js';
import { createCore } from '../../core/create.js';
import { startSetPush } from '../../core/set.js';
import type { Policy } from '../../core/policy.js';
import type { Clock } from '../../core/ports.js';
import { createBrokerApp } from '../../http/broker-app.js';

export interface NodeBrokerOptions {
  dbPath: string;
  policy: Policy;
  issuer: string;
  adminToken: string;
  masterKey: Uint8Array;
  clock?: Clock;
  /** SSE heartbeat interval on /v1/events, ms. */
  heartbeatMs?: number;
  dbSync?: 'normal' | 'full';
  /** How SETs are delivered (tests point it at an in-process receiver). */
  setFetch?: typeof fetch;
}

/** The broker on Node: SQLite file, libsodium sealing, the Hono app. */
export async function createNodeBroker(o: NodeBrokerOptions) {
  const { db, sqlite } = openSqlite(o.dbPath, o.dbSync);
  const store = createSqliteStore(db);
  const core = await createCore({ issuer: o.issuer, store, sealer: await createSodiumSealer(o.masterKey), policy: o.policy, clock: o.clock });
  const stopPush = startSetPush(core, { fetch: o.setFetch });
  const app = createBrokerApp({ core, adminToken: o.adminToken, heartbeatMs: o.heartbeatMs });
  return {
    app,
    core,
    sqlite,
    close: () => {
      stopPush();
      sqlite.close();
    },
  };
}
