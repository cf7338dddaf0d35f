import { and, asc, desc, eq, gt, gte, inArray, lt, lte, max, ne, notExists, notInArray, or, sql } from 'drizzle-orm';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type { Store, TaskEvent } from '../../core/ports.js';
import { parseScopeKey, SCOPE_KEY, scopeKey } from '../../core/scope.js';
import { PUSHED_TYPES } from '../../core/events.js';
import * as s from './schema.js';

const PUSHED = [...PUSHED_TYPES];

/** Any drizzle SQLite database: better-sqlite3 (sync driver, awaited) or D1 (async). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SqliteDb = BaseSQLiteDatabase<'sync' | 'async', any, typeof s>;

/**
 * The store port on drizzle. Every method is a single statement, so the same code is correct
 * on D1, which has no interactive transactions; races are settled by the statement itself
 * (`ON CONFLICT DO NOTHING RETURNING`, `UPDATE … WHERE status='active' RETURNING`).
 */
export function createSqliteStore(db: SqliteDb): Store {
  // The hot paths run as statements prepared once: building and compiling the SQL on every
  // call cost more than running it (measured: ~100 µs of query building per call).
  const p = (name: string) => sql.placeholder(name);
  const q = {
    agent: db.select().from(s.agents).where(eq(s.agents.id, p('id'))).limit(1).prepare(),
    resource: db.select().from(s.resources).where(eq(s.resources.id, p('id'))).limit(1).prepare(),
    task: db.select().from(s.tasks).where(eq(s.tasks.id, p('id'))).limit(1).prepare(),
    // A task's scopes (scope.ts's scopesOf), their keys built from its columns.
    state: db
      .select({
        task: s.tasks,
        epoch: sql<number | null>`(SELECT max(${s.revocationEpochs.epoch}) FROM ${s.revocationEpochs} WHERE ${s.revocationEpochs.scope} IN (${SCOPE_KEY.all}, ${SCOPE_KEY.agent} || ${s.tasks.agentId}, ${SCOPE_KEY.environment} || ${s.tasks.environment}))`,
        revoked: sql<number>`EXISTS (SELECT 1 FROM ${s.revokedTokens} WHERE ${s.revokedTokens.jti} = ${p('jti')})`,
      })
      .from(s.tasks)
      .where(eq(s.tasks.id, p('id')))
      .limit(1)
      .prepare(),
    consume: db
      .insert(s.replay)
      .values({ namespace: p('namespace'), jti: p('jti'), expiresAt: p('expiresAt') })
      .onConflictDoNothing()
      .returning({ jti: s.replay.jti })
      .prepare(),
    revoked: db.select({ jti: s.revokedTokens.jti }).from(s.revokedTokens).where(eq(s.revokedTokens.jti, p('jti'))).limit(1).prepare(),
    // Scopes are always (all, agent, environment): three placeholders.
    epoch: db
      .select({ epoch: max(s.revocationEpochs.epoch) })
      .from(s.revocationEpochs)
      .where(inArray(s.revocationEpochs.scope, [p('s0'), p('s1'), p('s2')]))
      .prepare(),
    // The agent is copied from the task, so that an agent's events are one index range (ofAgent).
    addEvent: db
      .insert(s.taskEvents)
      .values({
        taskId: p('taskId'),
        agentId: sql`coalesce((SELECT ${s.tasks.agentId} FROM ${s.tasks} WHERE ${s.tasks.id} = ${p('taskId')}), '')`,
        at: p('at'),
        kind: p('kind'),
        detail: p('detail'),
      })
      .prepare(),
    // Bounded by the index (agent_id, kind, at): the cost does not grow with the agent's history.
    ofAgent: db
      .select({ taskId: s.taskEvents.taskId, at: s.taskEvents.at, kind: s.taskEvents.kind, detail: s.taskEvents.detail })
      .from(s.taskEvents)
      .where(and(eq(s.taskEvents.agentId, p('agentId')), inArray(s.taskEvents.kind, [p('k0'), p('k1'), p('k2')]), gte(s.taskEvents.at, p('since'))))
      .orderBy(asc(s.taskEvents.id))
      .limit(1000)
      .prepare(),
    recent: db
      .select({ taskId: s.taskEvents.taskId, at: s.taskEvents.at, kind: s.taskEvents.kind, detail: s.taskEvents.detail })
      .from(s.taskEvents)
      .where(and(eq(s.taskEvents.taskId, p('id')), inArray(s.taskEvents.kind, [p('k0'), p('k1')]), gte(s.taskEvents.at, p('since'))))
      .orderBy(asc(s.taskEvents.id))
      .prepare(),
    append: db
      .insert(s.audit)
      .values({ seq: p('seq'), at: p('at'), type: p('type'), actor: p('actor'), taskId: p('taskId'), data: p('data'), prevHash: p('prevHash'), hash: p('hash') })
      .onConflictDoNothing()
      .returning({ seq: s.audit.seq })
      .prepare(),
  };
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
        const [row] = await q.agent.all({ id });
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
        const [row] = await q.resource.all({ id });
        return row;
      },
    },
    tasks: {
      async create(task) {
        await db.insert(s.tasks).values(task);
      },
      async get(id) {
        const [row] = await q.task.all({ id });
        return row;
      },
      async state(id, jti) {
        const [row] = await q.state.all({ id, jti: jti ?? '' });
        return row ? { task: row.task, epoch: row.epoch ?? 0, revoked: Boolean(row.revoked) } : { epoch: 0, revoked: false };
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
        await q.addEvent.run({ ...event });
      },
      async events(id) {
        const rows = await db
          .select({ taskId: s.taskEvents.taskId, at: s.taskEvents.at, kind: s.taskEvents.kind, detail: s.taskEvents.detail })
          .from(s.taskEvents)
          .where(eq(s.taskEvents.taskId, id))
          .orderBy(asc(s.taskEvents.id));
        return rows as TaskEvent[];
      },
      async recentEvents(id, kinds, since) {
        if (kinds.length === 0 || kinds.length > 2) throw new Error('recentEvents takes one or two kinds');
        const rows = await q.recent.all({ id, k0: kinds[0], k1: kinds[1] ?? kinds[0], since });
        return rows as TaskEvent[];
      },
      async recentEventsOfAgent(agentId, kinds, since) {
        if (kinds.length === 0 || kinds.length > 3) throw new Error('recentEventsOfAgent takes one to three kinds');
        const [k0, k1 = k0, k2 = k0] = kinds;
        const rows = await q.ofAgent.all({ agentId, k0, k1, k2, since });
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
        const rows = await q.consume.all({ namespace, jti, expiresAt });
        return rows.length === 1;
      },
    },
    revocations: {
      async revokeToken(jti, expiresAt) {
        await db.insert(s.revokedTokens).values({ jti, expiresAt }).onConflictDoNothing();
      },
      async isTokenRevoked(jti) {
        const [row] = await q.revoked.all({ jti });
        return row !== undefined;
      },
      async raiseEpoch(scope, epoch) {
        await db
          .insert(s.revocationEpochs)
          .values({ scope: scopeKey(scope), epoch })
          .onConflictDoUpdate({ target: s.revocationEpochs.scope, set: { epoch: sql`max(${s.revocationEpochs.epoch}, excluded.epoch)` } });
      },
      async epochOf(scopes) {
        if (scopes.length === 0 || scopes.length > 3) throw new Error('epochOf takes one to three scopes');
        const [k0, k1 = k0, k2 = k0] = scopes.map(scopeKey);
        const [row] = await q.epoch.all({ s0: k0, s1: k1, s2: k2 });
        return row?.epoch ?? 0;
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
          .select({ taskId: s.providerSessions.taskId, provider: s.providerSessions.provider, target: s.providerSessions.target, expiresAt: s.providerSessions.expiresAt })
          .from(s.providerSessions)
          .where(and(eq(s.providerSessions.taskId, taskId), gt(s.providerSessions.expiresAt, now)));
      },
      async live(now) {
        return db
          .select({ taskId: s.providerSessions.taskId, provider: s.providerSessions.provider, target: s.providerSessions.target, expiresAt: s.providerSessions.expiresAt })
          .from(s.providerSessions)
          .where(gt(s.providerSessions.expiresAt, now));
      },
    },
    audit: {
      async last() {
        const [row] = await db.select().from(s.audit).orderBy(desc(s.audit.seq)).limit(1);
        return row;
      },
      async append(record) {
        const rows = await q.append.all({ ...record });
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
    // Every statement commits as it runs.
    flush: () => Promise.resolve(),
    async purge(now, limit) {
      // By rowid, `limit` at a time: one long DELETE would hold the writer (and, on Node, the
      // event loop) for as long as it takes (measured: 147 ms for 30,000 rows).
      const oldest = <T extends typeof s.replay | typeof s.revokedTokens>(t: T) =>
        inArray(sql`rowid`, db.select({ r: sql`rowid` }).from(t).where(lt(t.expiresAt, now)).limit(limit));
      const replay = await db.delete(s.replay).where(oldest(s.replay)).returning({ one: sql<number>`1` });
      const revoked = await db.delete(s.revokedTokens).where(oldest(s.revokedTokens)).returning({ one: sql<number>`1` });
      return replay.length + revoked.length;
    },
  };
}
