import { env } from 'cloudflare:test';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from '../../src/adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../src/adapters/sqlite/store.js';
import { createMemoryStore } from '../../src/adapters/memory/store.js';
import { storeContract } from '../contract/store.js';

// The store contract against D1 inside workerd: same schema, same migrations, same promises.
const DB = (env as any).DB;
const TABLES = ['agents', 'resources', 'tasks', 'task_events', 'replay', 'revoked_tokens', 'revocation_epochs', 'audit', 'audit_checkpoints', 'receivers', 'secrets', 'provider_sessions', 'signing_keys'];

storeContract('drizzle (D1)', async () => {
  await DB.batch(TABLES.map((t) => DB.prepare(`DELETE FROM ${t}`)));
  return createSqliteStore(drizzle(DB, { schema }) as unknown as SqliteDb);
});

// The in-memory reference store needs no native module: it runs inside workerd as it does on Node.
storeContract('memory (workerd)', createMemoryStore);
