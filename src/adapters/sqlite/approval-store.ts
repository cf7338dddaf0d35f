import { and, asc, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import { APPROVAL_STATUSES, type ApprovalStore } from '../../core/approvals/types.js';
import * as s from './schema.js';
import type { SqliteDb } from './store.js';

/** The approval service's store on drizzle; single statements, as for the broker's. */
export function createApprovalStore(db: SqliteDb): ApprovalStore {
  return {
    async purge(now, limit) {
      // By rowid, `limit` at a time, as the broker's purge: no long DELETE holds the writer.
      type T = typeof s.webauthnChallenges | typeof s.approverSessions | typeof s.approverEnrolments;
      const oldest = (t: T) => inArray(sql`rowid`, db.select({ r: sql`rowid` }).from(t).where(lt(t.expiresAt, now)).limit(limit));
      let n = 0;
      for (const t of [s.webauthnChallenges, s.approverSessions, s.approverEnrolments] as T[]) {
        n += (await db.delete(t).where(oldest(t)).returning({ one: sql<number>`1` })).length;
      }
      return n;
    },
    approvers: {
      async create(a) {
        const rows = await db.insert(s.approvers).values(a).onConflictDoNothing().returning({ id: s.approvers.id });
        return rows.length === 1;
      },
      async get(id) {
        const [row] = await db.select().from(s.approvers).where(eq(s.approvers.id, id)).limit(1);
        return row;
      },
      async list() {
        return db.select().from(s.approvers).orderBy(asc(s.approvers.createdAt));
      },
    },
    keys: {
      async add(k) {
        const rows = await db.insert(s.approverKeys).values(k).onConflictDoNothing().returning({ kid: s.approverKeys.kid });
        return rows.length === 1;
      },
      async get(kid) {
        const [row] = await db.select().from(s.approverKeys).where(eq(s.approverKeys.kid, kid)).limit(1);
        return row;
      },
      async list(approverId) {
        return db
          .select()
          .from(s.approverKeys)
          .where(and(eq(s.approverKeys.approverId, approverId), isNull(s.approverKeys.retiredAt)))
          .orderBy(asc(s.approverKeys.createdAt));
      },
      async retire(approverId, kid, at) {
        const rows = await db
          .update(s.approverKeys)
          .set({ retiredAt: at })
          .where(and(eq(s.approverKeys.kid, kid), eq(s.approverKeys.approverId, approverId), isNull(s.approverKeys.retiredAt)))
          .returning({ kid: s.approverKeys.kid });
        return rows.length === 1;
      },
      async advanceCounter(kid, from, to) {
        const rows = await db
          .update(s.approverKeys)
          .set({ counter: to })
          .where(and(eq(s.approverKeys.kid, kid), eq(s.approverKeys.counter, from), isNull(s.approverKeys.retiredAt)))
          .returning({ kid: s.approverKeys.kid });
        return rows.length === 1;
      },
    },
    enrolments: {
      async create(e) {
        await db.insert(s.approverEnrolments).values(e);
      },
      async peek(tokenHash, now) {
        const [row] = await db
          .select({ approverId: s.approverEnrolments.approverId })
          .from(s.approverEnrolments)
          .where(and(eq(s.approverEnrolments.tokenHash, tokenHash), isNull(s.approverEnrolments.usedAt), gt(s.approverEnrolments.expiresAt, now)))
          .limit(1);
        return row?.approverId;
      },
      async use(tokenHash, now) {
        const [row] = await db
          .update(s.approverEnrolments)
          .set({ usedAt: now })
          .where(and(eq(s.approverEnrolments.tokenHash, tokenHash), isNull(s.approverEnrolments.usedAt), gt(s.approverEnrolments.expiresAt, now)))
          .returning({ approverId: s.approverEnrolments.approverId });
        return row?.approverId;
      },
    },
    sessions: {
      async create(x) {
        await db.insert(s.approverSessions).values(x);
      },
      async get(idHash, now) {
        const [row] = await db
          .select({ approverId: s.approverSessions.approverId })
          .from(s.approverSessions)
          .innerJoin(s.approverKeys, eq(s.approverKeys.kid, s.approverSessions.kid))
          .where(and(eq(s.approverSessions.idHash, idHash), gt(s.approverSessions.expiresAt, now), isNull(s.approverKeys.retiredAt)))
          .limit(1);
        return row?.approverId;
      },
      async delete(idHash) {
        await db.delete(s.approverSessions).where(eq(s.approverSessions.idHash, idHash));
      },
    },
    challenges: {
      async put(c) {
        await db.insert(s.webauthnChallenges).values(c);
      },
      async take(challenge, purpose, now) {
        const [row] = await db
          .delete(s.webauthnChallenges)
          .where(and(eq(s.webauthnChallenges.challenge, challenge), eq(s.webauthnChallenges.purpose, purpose), gt(s.webauthnChallenges.expiresAt, now)))
          .returning({ subject: s.webauthnChallenges.subject });
        return row?.subject;
      },
    },
    webhooks: {
      async add(w) {
        await db.insert(s.approvalWebhooks).values(w);
      },
      async list() {
        return db.select().from(s.approvalWebhooks).orderBy(asc(s.approvalWebhooks.createdAt));
      },
      async remove(id) {
        const rows = await db.delete(s.approvalWebhooks).where(eq(s.approvalWebhooks.id, id)).returning({ id: s.approvalWebhooks.id });
        return rows.length === 1;
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
        return db.select().from(s.approvalRequests).where(eq(s.approvalRequests.status, status)).orderBy(desc(s.approvalRequests.createdAt)).limit(limit);
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
      async prune(before, limit) {
        // through the (status, created_at) index, every status named; decisions first, so that a
        // failure between the two leaves a request to prune next time, never a decision without one
        const old = await db
          .select({ id: s.approvalRequests.id })
          .from(s.approvalRequests)
          .where(and(inArray(s.approvalRequests.status, APPROVAL_STATUSES), lt(s.approvalRequests.createdAt, before), lt(s.approvalRequests.expiresAt, before)))
          .limit(limit);
        if (old.length === 0) return 0;
        const ids = old.map((r) => r.id);
        await db.delete(s.approvalDecisions).where(inArray(s.approvalDecisions.requestId, ids));
        return (await db.delete(s.approvalRequests).where(inArray(s.approvalRequests.id, ids)).returning({ id: s.approvalRequests.id })).length;
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
