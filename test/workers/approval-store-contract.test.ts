import { env } from 'cloudflare:test';
import { drizzle } from 'drizzle-orm/d1';
import { createApprovalStore } from '../../src/adapters/sqlite/approval-store.js';
import * as schema from '../../src/adapters/sqlite/schema.js';
import type { SqliteDb } from '../../src/adapters/sqlite/store.js';
import { approvalStoreContract } from '../contract/approval-store.js';

// The approval store contract against D1 inside workerd: same schema, same migrations (0005 included).
const DB = (env as any).DB;
const TABLES = ['approvers', 'approver_keys', 'approver_enrolments', 'approver_sessions', 'webauthn_challenges', 'approval_webhooks', 'approval_requests', 'approval_decisions'];

approvalStoreContract('drizzle (D1)', async () => {
  await DB.batch(TABLES.map((t) => DB.prepare(`DELETE FROM ${t}`)));
  return createApprovalStore(drizzle(DB, { schema }) as unknown as SqliteDb);
});
