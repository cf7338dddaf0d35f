import type Database from 'better-sqlite3';
import type { AgentRecord, AuditRecord, Store, TaskEvent, TaskRecord } from '../../core/ports.js';
import { SCOPE_KEY } from '../../core/scope.js';
import { PUSHED_TYPES } from '../../core/events.js';
import type { GroupCommit } from './group-commit.js';

const PUSHED = [...PUSHED_TYPES];

/**
 * The calls every token request makes, as raw better-sqlite3 statements over the same schema,
 * their writes grouped into one commit per event-loop turn (see GroupCommit).
 * Measured under load, drizzle's per-call mapping cost several times what SQLite spent
 * running these (≈ 300 µs of the ≈ 1.8 ms each exchange took); the drizzle store stays the
 * reference implementation (and the one D1 uses), and the store contract tests run both.
 */
export function withNativeHotPaths(base: Store, sqlite: Database.Database, group: GroupCommit): Store {
  const st = {
    agent: sqlite.prepare('SELECT id, name, owner, jwks, templates, status, created_at FROM agents WHERE id = ?'),
    task: sqlite.prepare(
      'SELECT id, agent_id, template, environment, purpose, jkt, status, status_reason, created_at, expires_at FROM tasks WHERE id = ?',
    ),
    // Conflicts do nothing: `changes` says whether the row went in (0 for a replay), no row object built.
    consume: sqlite.prepare('INSERT INTO replay (namespace, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    // A task's scopes (scope.ts's scopesOf), their keys built from its columns (the constants hold no quote).
    state: sqlite.prepare(
      `SELECT t.id, t.agent_id, t.template, t.environment, t.purpose, t.jkt, t.status, t.status_reason, t.created_at, t.expires_at,
        (SELECT max(epoch) FROM revocation_epochs WHERE scope IN ('${SCOPE_KEY.all}', '${SCOPE_KEY.agent}' || t.agent_id, '${SCOPE_KEY.environment}' || t.environment)) AS epoch,
        EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?) AS revoked
       FROM tasks t WHERE t.id = ?`,
    ),
    // The agent is copied from the task: an agent's recent events are one range of task_events_agent.
    addEvent: sqlite.prepare(
      "INSERT INTO task_events (task_id, agent_id, at, kind, detail) VALUES (?, coalesce((SELECT agent_id FROM tasks WHERE id = ?), ''), ?, ?, ?)",
    ),
    ofAgent: sqlite.prepare('SELECT task_id, at, kind, detail FROM task_events WHERE agent_id = ? AND kind IN (?, ?, ?) AND at >= ? ORDER BY id LIMIT 1000'),
    createTask: sqlite.prepare(
      'INSERT INTO tasks (id, agent_id, template, environment, purpose, jkt, status, status_reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    recent: sqlite.prepare('SELECT task_id, at, kind, detail FROM task_events WHERE task_id = ? AND kind IN (?, ?) AND at >= ? ORDER BY id'),
    // Housekeeping (core/purge.ts), every 100 ms: prepared once, not built by drizzle each round.
    purgeReplay: sqlite.prepare('DELETE FROM replay WHERE rowid IN (SELECT rowid FROM replay WHERE expires_at < ? LIMIT ?)'),
    purgeRevoked: sqlite.prepare('DELETE FROM revoked_tokens WHERE rowid IN (SELECT rowid FROM revoked_tokens WHERE expires_at < ? LIMIT ?)'),
    // Retention (core/retention.ts), every 100 ms: the statements the drizzle store builds, prepared
    // once (built per call they cost ≈ 2% of the main thread under a token load).
    pruneEvents: sqlite.prepare(
      'DELETE FROM task_events WHERE id IN (SELECT id FROM task_events WHERE task_id IN (SELECT id FROM tasks WHERE expires_at < ? ORDER BY expires_at LIMIT 16) LIMIT ?)',
    ),
    pruneSessions: sqlite.prepare('DELETE FROM provider_sessions WHERE task_id IN (SELECT id FROM tasks WHERE expires_at < ? ORDER BY expires_at LIMIT 16)'),
    pruneTasks: sqlite.prepare(
      'DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE expires_at < ? ORDER BY expires_at LIMIT ?) AND NOT EXISTS (SELECT 1 FROM task_events WHERE task_events.task_id = tasks.id)',
    ),
    checkpoint: sqlite.prepare('SELECT seq, hash, at, jws FROM audit_checkpoints ORDER BY seq DESC LIMIT 1'),
    list: sqlite.prepare('SELECT seq, at, type, actor, task_id, data, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?'),
    pruneAudit: sqlite.prepare('DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE seq <= ? ORDER BY seq LIMIT ?)'),
    append: sqlite.prepare(
      'INSERT INTO audit (seq, at, type, actor, task_id, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    // What every event stream reads as it opens (issue 23: 200 verifiers reconnecting at once):
    // its resource service, the head, a page of backlog. The last two cost ≈ 200 µs each of
    // query building through drizzle, ≈ 20 µs as statements.
    resource: sqlite.prepare('SELECT id, name, audience, secret_hash, created_at FROM resources WHERE id = ?'),
    last: sqlite.prepare('SELECT seq, at, type, actor, task_id, data, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1'),
    listPushed: sqlite.prepare(
      `SELECT seq, at, type, actor, task_id, data, prev_hash, hash FROM audit WHERE type IN (${PUSHED.map(() => '?').join(', ')}) AND seq > ? ORDER BY seq LIMIT ?`,
    ),
  };
  type Row = Record<string, unknown>;
  const toAgent = (r: Row): AgentRecord => ({
    id: r.id as string,
    name: r.name as string,
    owner: r.owner as string,
    jwks: JSON.parse(r.jwks as string),
    templates: JSON.parse(r.templates as string),
    status: r.status as AgentRecord['status'],
    createdAt: r.created_at as number,
  });
  const toTask = (r: Row): TaskRecord => ({
    id: r.id as string,
    agentId: r.agent_id as string,
    template: r.template as string,
    environment: r.environment as string,
    purpose: r.purpose as string,
    jkt: r.jkt as string,
    status: r.status as TaskRecord['status'],
    statusReason: (r.status_reason as string | null) ?? null,
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
  });
  const toAudit = (r: Row): AuditRecord => ({
    seq: r.seq as number,
    at: r.at as number,
    type: r.type as string,
    actor: r.actor as string,
    taskId: (r.task_id as string | null) ?? null,
    data: JSON.parse(r.data as string),
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  });
  const toEvent = (r: Row): TaskEvent => ({ taskId: r.task_id as string, at: r.at as number, kind: r.kind as TaskEvent['kind'], detail: JSON.parse(r.detail as string) });

  return {
    ...base,
    flush: () => group.flush(),
    async purge(now, limit) {
      return group.write(() => st.purgeReplay.run(now, limit).changes + st.purgeRevoked.run(now, limit).changes);
    },
    agents: {
      ...base.agents,
      async get(id) {
        const r = st.agent.get(id) as Row | undefined;
        return r && toAgent(r);
      },
    },
    tasks: {
      ...base.tasks,
      async create(t) {
        group.write(() => st.createTask.run(t.id, t.agentId, t.template, t.environment, t.purpose, t.jkt, t.status, t.statusReason, t.createdAt, t.expiresAt));
      },
      async get(id) {
        const r = st.task.get(id) as Row | undefined;
        return r && toTask(r);
      },
      async state(id, jti) {
        const r = st.state.get(jti ?? '', id) as Row | undefined;
        return r ? { task: toTask(r), epoch: (r.epoch as number | null) ?? 0, revoked: r.revoked === 1 } : { epoch: 0, revoked: false };
      },
      async addEvent(e) {
        group.write(() => st.addEvent.run(e.taskId, e.taskId, e.at, e.kind, JSON.stringify(e.detail)));
      },
      async recentEvents(id, kinds, since) {
        if (kinds.length === 0 || kinds.length > 2) throw new Error('recentEvents takes one or two kinds');
        return (st.recent.all(id, kinds[0], kinds[1] ?? kinds[0], since) as Row[]).map(toEvent);
      },
      async recentEventsOfAgent(agentId, kinds, since) {
        if (kinds.length === 0 || kinds.length > 3) throw new Error('recentEventsOfAgent takes one to three kinds');
        const [k0, k1 = k0, k2 = k0] = kinds;
        return (st.ofAgent.all(agentId, k0, k1, k2, since) as Row[]).map(toEvent);
      },
      async pruneExpired(before, limit) {
        // As the drizzle store: events first, then the sessions, then the tasks left without events.
        return group.write(() => st.pruneEvents.run(before, limit).changes + st.pruneSessions.run(before).changes + st.pruneTasks.run(before, limit).changes);
      },
    },
    resources: {
      ...base.resources,
      async get(id) {
        const r = st.resource.get(id) as Row | undefined;
        return r && { id: r.id as string, name: r.name as string, audience: r.audience as string, secretHash: r.secret_hash as string, createdAt: r.created_at as number };
      },
    },
    replay: {
      async consume(namespace, jti, expiresAt) {
        return group.write(() => st.consume.run(namespace, jti, expiresAt)).changes === 1;
      },
    },
    audit: {
      ...base.audit,
      async append(r: AuditRecord) {
        return group.write(() => st.append.run(r.seq, r.at, r.type, r.actor, r.taskId, JSON.stringify(r.data), r.prevHash, r.hash)).changes === 1;
      },
      async last() {
        const r = st.last.get() as Row | undefined;
        return r && toAudit(r);
      },
      async checkpoint() {
        const r = st.checkpoint.get() as Row | undefined;
        return r && { seq: r.seq as number, hash: r.hash as string, at: r.at as number, jws: r.jws as string };
      },
      async list(afterSeq, limit) {
        return (st.list.all(afterSeq, limit) as Row[]).map(toAudit);
      },
      async prune(throughSeq, limit) {
        return group.write(() => st.pruneAudit.run(throughSeq, limit).changes);
      },
      async listPushed(afterSeq, limit) {
        return (st.listPushed.all(...PUSHED, afterSeq, limit) as Row[]).map(toAudit);
      },
    },
  };
}
