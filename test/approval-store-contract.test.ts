import { createApprovalStore } from '../src/adapters/sqlite/approval-store.js';
import { openSqlite } from '../src/adapters/sqlite/node.js';
import { approvalStoreContract } from './contract/approval-store.js';

approvalStoreContract('drizzle (better-sqlite3)', () => createApprovalStore(openSqlite(':memory:').db));
