import { and, asc, eq, inArray } from 'drizzle-orm';
import type { ApprovalStore } from '../../core/approvals/types.js';
import * as s from './schema.js';
import type { SqliteDb } from './store.js';

/** The approval service's store on drizzle; single statements, as for the broker's. */
export function createApprovalStore(db: SqliteDb): ApprovalStore {
  return {
    approvers: {
      async create(a) {
        await db.insert(s.approvers).values(a);
      },
      async get(id) {
        const [row] = await db.select().from(s.approvers).where(eq(s.approvers.id, id)).limit(1);
        return row;
      },
    },
    requests: {
      async create(r) {
        await db.insert(s.approvalRequests).values(r);
      },
      async get(id) {
        const [row] = await db.select().from(s.approvalRequests).where(eq(s.approvalRequests.id, id)).limit(1);
        return row;
      },
      async list(status, limit) {
        return db.select().from(s.approvalRequests).where(eq(s.approvalRequests.status, status)).orderBy(asc(s.approvalRequests.createdAt)).limit(limit);
      },
      async transition(id, from, to, reason) {
        const rows = await db
          .update(s.approvalRequests)
          .set({ status: to, statusReason: reason })
          .where(and(eq(s.approvalRequests.id, id), inArray(s.approvalRequests.status, from)))
          .returning({ id: s.approvalRequests.id });
        return rows.length === 1;
      },
      async touch(id, at, interval) {
        await db.update(s.approvalRequests).set({ lastPollAt: at, interval }).where(eq(s.approvalRequests.id, id));
      },
    },
    decisions: {
      async add(d) {
        const rows = await db.insert(s.approvalDecisions).values(d).onConflictDoNothing().returning({ id: s.approvalDecisions.requestId });
        return rows.length === 1;
      },
      async list(requestId) {
        return db.select().from(s.approvalDecisions).where(eq(s.approvalDecisions.requestId, requestId)).orderBy(asc(s.approvalDecisions.at));
      },
    },
  };
}
