import { and, asc, desc, eq, gt, gte, inArray, lt, lte, max, ne, notExists, notInArray, or, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Store, TaskEvent, TaskRecord } from '../../core/ports.js';
import { parseScopeKey, SCOPE_KEY, scopeKey } from '../../core/scope.js';
import { PUSHED_TYPES } from '../../core/events.js';
import * as s from './schema.js';

const PUSHED = [...PUSHED_TYPES];

/** Any drizzle PostgreSQL database over this schema (node-postgres in production). */
export type PgDb = PgDatabase<PgQueryResultHKT, typeof s>;

/**
 * The store port on PostgreSQL. As on SQLite and D1, every method is one statement and every
 * single-winner promise is settled by that statement: `INSERT … ON CONFLICT DO NOTHING
 * RETURNING` (replay, audit seq), `UPDATE … WHERE <still in the old state> RETURNING` (task
 * end, agent lock). Under READ COMMITTED a second writer of the same row waits for the first
 * to commit and then re-checks the WHERE clause against the committed row, so of racing
 * callers, on one node or many, exactly one sees its row. Each statement commits on its own and
 * is visible to every node at once; `flush` (durability.ts) makes it durable before any answer
 * that rests on it leaves.
 */
export function createPgStore(db: PgDb, durability: { flush: () => Promise<void>; barrier?: () => Promise<void> } = { flush: () => Promise.resolve() }): Store {
  const taskCols = {
    id: s.tasks.id,
    agentId: s.tasks.agentId,
    template: s.tasks.template,
    environment: s.tasks.environment,
    purpose: s.tasks.purpose,
    jkt: s.tasks.jkt,
    status: s.tasks.status,
    statusReason: s.tasks.statusReason,
    createdAt: s.tasks.createdAt,
    expiresAt: s.tasks.expiresAt,
  };
  const eventCols = { taskId: s.taskEvents.taskId, at: s.taskEvents.at, kind: s.taskEvents.kind, detail: s.taskEvents.detail };
  const sessionCols = { taskId: s.providerSessions.taskId, provider: s.providerSessions.provider, target: s.providerSessions.target, expiresAt: s.providerSessions.expiresAt };
  return {
    listings: {
      async tasks(f) {
        const where = [
          f.statuses?.length ? inArray(s.tasks.status, f.statuses) : undefined,
          f.agentId !== undefined ? eq(s.tasks.agentId, f.agentId) : undefined,
          f.environment !== undefined ? eq(s.tasks.environment, f.environment) : undefined,
          f.before ? or(lt(s.tasks.createdAt, f.before.createdAt), and(eq(s.tasks.createdAt, f.before.createdAt), lt(s.tasks.id, f.before.id))) : undefined,
        ];
        return db
          .select()
          .from(s.tasks)
          .where(and(...where))
          .orderBy(desc(s.tasks.createdAt), desc(s.tasks.id))
          .limit(f.limit);
      },
      async agents(f) {
        const before = f.before ? or(lt(s.agents.createdAt, f.before.createdAt), and(eq(s.agents.createdAt, f.before.createdAt), lt(s.agents.id, f.before.id))) : undefined;
        return db.select().from(s.agents).where(before).orderBy(desc(s.agents.createdAt), desc(s.agents.id)).limit(f.limit);
      },
    },
    agents: {
      async create(agent) {
        await db.insert(s.agents).values(agent);
      },
      async get(id) {
        const [row] = await db.select().from(s.agents).where(eq(s.agents.id, id)).limit(1);
        return row;
      },
      async setStatus(id, status) {
        const rows = await db
          .update(s.agents)
          .set({ status })
          .where(and(eq(s.agents.id, id), ne(s.agents.status, status)))
          .returning({ id: s.agents.id });
        return rows.length === 1;
      },
    },
    resources: {
      async create(resource) {
        await db.insert(s.resources).values(resource);
      },
      async get(id) {
        const [row] = await db.select().from(s.resources).where(eq(s.resources.id, id)).limit(1);
        return row;
      },
    },
    tasks: {
      async create(task) {
        await db.insert(s.tasks).values(task);
      },
      async get(id) {
        const [row] = await db.select().from(s.tasks).where(eq(s.tasks.id, id)).limit(1);
        return row;
      },
      async state(id, jti) {
        // The task's scopes (scope.ts's scopesOf), their keys built from its columns.
        const [row] = await db
          .select({
            ...taskCols,
            epoch: sql<string | number | null>`(SELECT max(${s.revocationEpochs.epoch}) FROM ${s.revocationEpochs} WHERE ${s.revocationEpochs.scope} IN (${SCOPE_KEY.all}::text, ${SCOPE_KEY.agent}::text || ${s.tasks.agentId}, ${SCOPE_KEY.environment}::text || ${s.tasks.environment}))`,
            revoked: sql<boolean>`EXISTS (SELECT 1 FROM ${s.revokedTokens} WHERE ${s.revokedTokens.jti} = ${jti ?? ''})`,
          })
          .from(s.tasks)
          .where(eq(s.tasks.id, id))
          .limit(1);
        if (!row) return { epoch: 0, revoked: false };
        const { epoch, revoked, ...task } = row;
        return { task: task as TaskRecord, epoch: epoch === null ? 0 : Number(epoch), revoked: Boolean(revoked) };
      },
      async end(id, status, reason) {
        const rows = await db
          .update(s.tasks)
          .set({ status, statusReason: reason })
          .where(and(eq(s.tasks.id, id), eq(s.tasks.status, 'active')))
          .returning({ id: s.tasks.id });
        return rows.length === 1;
      },
      async activeByKey(jkt, agentId) {
        const where = and(eq(s.tasks.jkt, jkt), eq(s.tasks.status, 'active'), agentId === undefined ? undefined : eq(s.tasks.agentId, agentId));
        return db.select().from(s.tasks).where(where);
      },
      async addEvent(event) {
        // The agent is copied from the task, so that an agent's events are one index range.
        await db.insert(s.taskEvents).values({
          ...event,
          agentId: sql`coalesce((SELECT ${s.tasks.agentId} FROM ${s.tasks} WHERE ${s.tasks.id} = ${event.taskId}), '')`,
        });
      },
      async events(id) {
        const rows = await db.select(eventCols).from(s.taskEvents).where(eq(s.taskEvents.taskId, id)).orderBy(asc(s.taskEvents.id));
        return rows as TaskEvent[];
      },
      async recentEvents(id, kinds, since) {
        if (kinds.length === 0 || kinds.length > 2) throw new Error('recentEvents takes one or two kinds');
        const rows = await db
          .select(eventCols)
          .from(s.taskEvents)
          .where(and(eq(s.taskEvents.taskId, id), inArray(s.taskEvents.kind, kinds), gte(s.taskEvents.at, since)))
          .orderBy(asc(s.taskEvents.id));
        return rows as TaskEvent[];
      },
      async recentEventsOfAgent(agentId, kinds, since) {
        if (kinds.length === 0 || kinds.length > 3) throw new Error('recentEventsOfAgent takes one to three kinds');
        // Bounded by the index (agent_id, kind, at): the cost does not grow with the agent's history.
        const rows = await db
          .select(eventCols)
          .from(s.taskEvents)
          .where(and(eq(s.taskEvents.agentId, agentId), inArray(s.taskEvents.kind, kinds), gte(s.taskEvents.at, since)))
          .orderBy(asc(s.taskEvents.id))
          .limit(1000);
        return rows as TaskEvent[];
      },
      async pruneExpired(before, limit) {
        // The tasks that expired longest ago, by the index on expires_at: each statement reads a
        // bounded window whatever the size of the backlog (a first run on a year of history).
        const oldest = (n: number) => db.select({ id: s.tasks.id }).from(s.tasks).where(lt(s.tasks.expiresAt, before)).orderBy(asc(s.tasks.expiresAt)).limit(n);
        const events = await db
          .delete(s.taskEvents)
          .where(inArray(s.taskEvents.id, db.select({ id: s.taskEvents.id }).from(s.taskEvents).where(inArray(s.taskEvents.taskId, oldest(16))).limit(limit)))
          .returning({ one: sql<number>`1` });
        // The provider sessions of those tasks (a task's few, through their index): expired with it.
        const sessions = await db.delete(s.providerSessions).where(inArray(s.providerSessions.taskId, oldest(16))).returning({ one: sql<number>`1` });
        // A task goes once its events have: never a trajectory without its task.
        const gone = await db
          .delete(s.tasks)
          .where(and(inArray(s.tasks.id, oldest(limit)), notExists(db.select({ one: sql`1` }).from(s.taskEvents).where(eq(s.taskEvents.taskId, s.tasks.id)))))
          .returning({ one: sql<number>`1` });
        return events.length + sessions.length + gone.length;
      },
    },
    replay: {
      async consume(namespace, jti, expiresAt) {
        const rows = await db.insert(s.replay).values({ namespace, jti, expiresAt }).onConflictDoNothing().returning({ jti: s.replay.jti });
        return rows.length === 1;
      },
    },
    revocations: {
      async revokeToken(jti, expiresAt) {
        await db.insert(s.revokedTokens).values({ jti, expiresAt }).onConflictDoNothing();
      },
      async isTokenRevoked(jti) {
        const [row] = await db.select({ jti: s.revokedTokens.jti }).from(s.revokedTokens).where(eq(s.revokedTokens.jti, jti)).limit(1);
        return row !== undefined;
      },
      async raiseEpoch(scope, epoch) {
        await db
          .insert(s.revocationEpochs)
          .values({ scope: scopeKey(scope), epoch })
          .onConflictDoUpdate({ target: s.revocationEpochs.scope, set: { epoch: sql`greatest(${s.revocationEpochs.epoch}, excluded.epoch)` } });
      },
      async epochOf(scopes) {
        if (scopes.length === 0 || scopes.length > 3) throw new Error('epochOf takes one to three scopes');
        const [row] = await db
          .select({ epoch: max(s.revocationEpochs.epoch) })
          .from(s.revocationEpochs)
          .where(inArray(s.revocationEpochs.scope, scopes.map(scopeKey)));
        return row?.epoch == null ? 0 : Number(row.epoch);
      },
      async epochsSince(since) {
        const rows = await db.select().from(s.revocationEpochs).where(gt(s.revocationEpochs.epoch, since));
        return rows.flatMap((r) => {
          const scope = parseScopeKey(r.scope);
          return scope ? [{ scope, epoch: r.epoch }] : [];
        });
      },
    },
    receivers: {
      async create(receiver) {
        await db.insert(s.receivers).values(receiver);
      },
      async list() {
        return db.select().from(s.receivers).orderBy(asc(s.receivers.createdAt));
      },
    },
    keys: {
      async list(use) {
        return db.select().from(s.signingKeys).where(eq(s.signingKeys.use, use)).orderBy(desc(s.signingKeys.createdAt));
      },
      async add(key) {
        await db.insert(s.signingKeys).values(key);
      },
      async reseal(kid, sealedPrivate) {
        await db.update(s.signingKeys).set({ sealedPrivate }).where(eq(s.signingKeys.kid, kid));
      },
    },
    secrets: {
      async put(name, sealedValue, now) {
        await db
          .insert(s.secrets)
          .values({ name, sealedValue, createdAt: now, updatedAt: now })
          .onConflictDoUpdate({ target: s.secrets.name, set: { sealedValue, updatedAt: now } });
      },
      async get(name) {
        const [row] = await db.select().from(s.secrets).where(eq(s.secrets.name, name)).limit(1);
        return row;
      },
      async list() {
        return db.select().from(s.secrets).orderBy(asc(s.secrets.name));
      },
      async reseal(name, sealedValue) {
        await db.update(s.secrets).set({ sealedValue }).where(eq(s.secrets.name, name));
      },
    },
    providerSessions: {
      async add(x) {
        await db.insert(s.providerSessions).values(x);
      },
      async liveFor(taskId, now) {
        return db
          .select(sessionCols)
          .from(s.providerSessions)
          .where(and(eq(s.providerSessions.taskId, taskId), gt(s.providerSessions.expiresAt, now)))
          .orderBy(asc(s.providerSessions.id));
      },
      async live(now) {
        return db.select(sessionCols).from(s.providerSessions).where(gt(s.providerSessions.expiresAt, now)).orderBy(asc(s.providerSessions.id));
      },
    },
    audit: {
      async last() {
        const [row] = await db.select().from(s.audit).orderBy(desc(s.audit.seq)).limit(1);
        return row;
      },
      async append(record) {
        const rows = await db.insert(s.audit).values(record).onConflictDoNothing().returning({ seq: s.audit.seq });
        return rows.length === 1;
      },
      async list(afterSeq, limit) {
        return db.select().from(s.audit).where(gt(s.audit.seq, afterSeq)).orderBy(asc(s.audit.seq)).limit(limit);
      },
      async checkpoint() {
        const [row] = await db.select().from(s.auditCheckpoints).orderBy(desc(s.auditCheckpoints.seq)).limit(1);
        return row;
      },
      async addCheckpoint(c, keep) {
        await db.insert(s.auditCheckpoints).values(c).onConflictDoNothing();
        const newest = db.select({ seq: s.auditCheckpoints.seq }).from(s.auditCheckpoints).orderBy(desc(s.auditCheckpoints.seq)).limit(keep);
        await db.delete(s.auditCheckpoints).where(notInArray(s.auditCheckpoints.seq, newest));
      },
      async prune(throughSeq, limit) {
        const lowest = db.select({ seq: s.audit.seq }).from(s.audit).where(lte(s.audit.seq, throughSeq)).orderBy(asc(s.audit.seq)).limit(limit);
        const rows = await db.delete(s.audit).where(inArray(s.audit.seq, lowest)).returning({ one: sql<number>`1` });
        return rows.length;
      },
      async listPushed(afterSeq, limit) {
        return db.select().from(s.audit).where(and(inArray(s.audit.type, PUSHED), gt(s.audit.seq, afterSeq))).orderBy(asc(s.audit.seq)).limit(limit);
      },
    },
    // The pool of node.ts commits asynchronously, so answers wait for its group flush, and what
    // other nodes committed is passed on only after a barrier (durability.ts).
    flush: durability.flush,
    ...(durability.barrier ? { barrier: durability.barrier } : {}),
    async purge(now, limit) {
      // `limit` rows at a time by their physical address, so that no delete holds its rows long.
      const oldest = (table: 'replay' | 'revoked_tokens') =>
        sql`DELETE FROM ${sql.identifier(table)} WHERE ctid IN (SELECT ctid FROM ${sql.identifier(table)} WHERE expires_at < ${now} LIMIT ${limit})`;
      const replay = await db.execute(oldest('replay'));
      const revoked = await db.execute(oldest('revoked_tokens'));
      return (rowCount(replay) ?? 0) + (rowCount(revoked) ?? 0);
    },
  };
}

const rowCount = (r: unknown) => (r as { rowCount?: number | null }).rowCount ?? undefined;
