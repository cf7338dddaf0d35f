import { afterAll, describe, it } from 'vitest';
import { createPgApprovalStore } from '../src/adapters/postgres/approval-store.js';
import { createPgStore } from '../src/adapters/postgres/store.js';
import { approvalStoreContract } from './contract/approval-store.js';
import { storeContract } from './contract/store.js';
import { pgSchemas, postgresAvailable } from './helpers/postgres.js';

// The same contract suites as SQLite, D1 and memory, against a real PostgreSQL server: a schema
// of this run's own, emptied before each test; racing calls run on several pooled connections.
const available = await postgresAvailable();
const schemas = pgSchemas();
afterAll(() => schemas.dropAll());

if (available) {
  storeContract('PostgreSQL', async () => {
    const o = await schemas.fresh();
    return createPgStore(o.db, o);
  });
  approvalStoreContract('PostgreSQL', async () => createPgApprovalStore((await schemas.fresh()).db));
} else {
  describe.skip('store contract: PostgreSQL (no server)', () => it('needs PostgreSQL', () => undefined));
}
