import { createSodiumSealer } from '../../adapters/sealing/libsodium.js';
import { openSqlite } from '../../adapters/sqlite/node.js';
import { createSqliteStore } from '../../adapters/sqlite/store.js';
import { createCore } from '../../core/create.js';
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
}

/** The broker on Node: SQLite file, libsodium sealing, the Hono app. */
export async function createNodeBroker(o: NodeBrokerOptions) {
  const { db, sqlite } = openSqlite(o.dbPath, o.dbSync);
  const store = createSqliteStore(db);
  const core = await createCore({ issuer: o.issuer, store, sealer: await createSodiumSealer(o.masterKey), policy: o.policy, clock: o.clock });
  const app = createBrokerApp({ core, adminToken: o.adminToken, heartbeatMs: o.heartbeatMs });
  return { app, core, sqlite, close: () => sqlite.close() };
}
