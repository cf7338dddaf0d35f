import type {
  AgentRecord,
  AuditCheckpoint,
  AuditRecord,
  ListCursor,
  ProviderSessionRecord,
  ReceiverRecord,
  ResourceRecord,
  SecretRecord,
  SigningKeyRecord,
  Store,
  TaskEvent,
  TaskRecord,
} from '../../core/ports.js';
import { PUSHED_TYPES } from '../../core/events.js';
import { parseScopeKey, scopeKey, scopesOf } from '../../core/scope.js';

const copy = <T>(v: T): T => structuredClone(v);

/** Rows by primary key: `create` refuses a taken key, as the SQL tables' primary keys do; reads are copies. */
function keyed<V extends { id: string }>(table: string) {
  const rows = new Map<string, V>();
  return {
    rows,
    async create(row: V) {
      if (rows.has(row.id)) throw new Error(`UNIQUE constraint failed: ${table}.id ${row.id}`);
      rows.set(row.id, copy(row));
    },
    async get(id: string) {
      const row = rows.get(id);
      return row && copy(row);
    },
  };
}

/**
 * The store port in memory: the simplest implementation that keeps every promise, and what core tests run
 * on without native modules. Same contract suite, same answers.
 *
 * Trade-off: nothing is durable, so `flush` resolves at once and a restart forgets everything;
 * it is for tests and single-process experiments, never for a broker that hands out credentials.
 *
 * Concurrency: JavaScript runs one turn at a time, and every guarded method below does its
 * check and its write in the same turn (no `await` between them), so the single-winner promises
 * (`replay.consume`, `tasks.end`, `agents.setStatus`, `audit.append`) hold however many callers
 * race. Records are copied in and out, so a caller mutating what it got back changes nothing here,
 * as with a database.
 */
export function createMemoryStore(): Store {
  const agents = keyed<AgentRecord>('agents');
  const resources = keyed<ResourceRecord>('resources');
  const tasks = keyed<TaskRecord>('tasks');
  /** Each task's events in the order they were added. */
  const events = new Map<string, TaskEvent[]>();
  const eventsOf = (id: string) => events.get(id) ?? [];
  /** Keyed by namespace and jti; insertion order stands in for SQLite's rowid. */
  const replay = new Map<string, number>();
  const revokedTokens = new Map<string, number>();
  const epochs = new Map<string, number>();
  const receivers = keyed<ReceiverRecord>('receivers');
  const keys = new Map<string, SigningKeyRecord>();
  const secrets = new Map<string, SecretRecord>();
  const sessions: ProviderSessionRecord[] = [];
  const audit = new Map<number, AuditRecord>();
  let lastSeq: number | undefined;
  const checkpoints = new Map<number, AuditCheckpoint>();

  const get = <K, V>(m: Map<K, V>, key: K): V | undefined => {
    const v = m.get(key);
    return v === undefined ? undefined : copy(v);
  };
  const epochOfKeys = (ks: string[]) => Math.max(0, ...ks.map((k) => epochs.get(k) ?? 0));
  /** Drops up to `limit` entries expired before `now`, oldest inserted first. */
  const purgeExpired = (m: Map<string, number>, now: number, limit: number) => {
    let n = 0;
    for (const [k, expiresAt] of m) {
      if (n >= limit) break;
      if (expiresAt < now) {
        m.delete(k);
        n++;
      }
    }
    return n;
  };

  /** Newest first on (createdAt, id), strictly before the cursor: the keyset order of the SQL stores. */
  const page = <T extends { createdAt: number; id: string }>(rows: Iterable<T>, keep: (r: T) => boolean, before: ListCursor | undefined, limit: number): T[] =>
    [...rows]
      .filter((r) => keep(r) && (!before || r.createdAt < before.createdAt || (r.createdAt === before.createdAt && r.id < before.id)))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit)
      .map(copy);

  return {
    listings: {
      async tasks(f) {
        return page(tasks.rows.values(), (t) => (!f.statuses?.length || f.statuses.includes(t.status)) && (f.agentId === undefined || t.agentId === f.agentId) && (f.environment === undefined || t.environment === f.environment), f.before, f.limit);
      },
      async agents(f) {
        return page(agents.rows.values(), () => true, f.before, f.limit);
      },
    },
    agents: {
      create: agents.create,
      get: agents.get,
      async setStatus(id, status) {
        const a = agents.rows.get(id);
        if (!a || a.status === status) return false;
        a.status = status;
        return true;
      },
    },
    resources: { create: resources.create, get: resources.get },
    tasks: {
      create: tasks.create,
      get: tasks.get,
      async state(id, jti) {
        const task = tasks.rows.get(id);
        if (!task) return { epoch: 0, revoked: false };
        return {
          task: copy(task),
          epoch: epochOfKeys(scopesOf(task.agentId, task.environment).map(scopeKey)),
          revoked: jti !== undefined && revokedTokens.has(jti),
        };
      },
      async end(id, status, reason) {
        const t = tasks.rows.get(id);
        if (!t || t.status !== 'active') return false;
        t.status = status;
        t.statusReason = reason;
        return true;
      },
      async activeByKey(jkt, agentId) {
        return [...tasks.rows.values()].filter((t) => t.jkt === jkt && t.status === 'active' && (agentId === undefined || t.agentId === agentId)).map(copy);
      },
      async addEvent(event) {
        const list = events.get(event.taskId);
        if (list) list.push(copy(event));
        else events.set(event.taskId, [copy(event)]);
      },
      async events(id) {
        return eventsOf(id).map(copy);
      },
      async recentEvents(id, kinds, since) {
        if (kinds.length === 0 || kinds.length > 2) throw new Error('recentEvents takes one or two kinds');
        return eventsOf(id).filter((e) => kinds.includes(e.kind) && e.at >= since).map(copy);
      },
      async recentEventsOfAgent(agentId, kinds, since) {
        if (kinds.length === 0 || kinds.length > 3) throw new Error('recentEventsOfAgent takes one to three kinds');
        const mine = [...tasks.rows.values()].filter((t) => t.agentId === agentId);
        return mine
          .flatMap((t) => eventsOf(t.id).filter((e) => kinds.includes(e.kind) && e.at >= since))
          .sort((a, b) => a.at - b.at)
          .slice(0, 1000)
          .map(copy);
      },
      async pruneExpired(before, limit) {
        // Oldest expiry first, as the SQL stores do by their index on expires_at.
        const expired = [...tasks.rows.values()].filter((t) => t.expiresAt < before).sort((a, b) => a.expiresAt - b.expiresAt);
        let n = 0;
        for (const t of expired) {
          const list = eventsOf(t.id);
          const drop = Math.min(list.length, limit - n);
          list.splice(0, drop);
          n += drop;
          if (n >= limit) break;
        }
        const ended = new Set(expired.slice(0, 16).map((t) => t.id));
        for (let i = sessions.length - 1; i >= 0; i--) {
          if (!ended.has(sessions[i]!.taskId)) continue;
          sessions.splice(i, 1);
          n++;
        }
        let gone = 0;
        for (const t of expired) {
          if (gone >= limit) break;
          if (eventsOf(t.id).length > 0) continue;
          events.delete(t.id);
          tasks.rows.delete(t.id);
          gone++;
        }
        return n + gone;
      },
    },
    replay: {
      async consume(namespace, jti, expiresAt) {
        const k = `${namespace}\u0000${jti}`;
        if (replay.has(k)) return false;
        replay.set(k, expiresAt);
        return true;
      },
    },
    revocations: {
      async revokeToken(jti, expiresAt) {
        if (!revokedTokens.has(jti)) revokedTokens.set(jti, expiresAt);
      },
      async isTokenRevoked(jti) {
        return revokedTokens.has(jti);
      },
      async raiseEpoch(scope, epoch) {
        const k = scopeKey(scope);
        epochs.set(k, Math.max(epochs.get(k) ?? epoch, epoch));
      },
      async epochOf(scopes) {
        if (scopes.length === 0 || scopes.length > 3) throw new Error('epochOf takes one to three scopes');
        return epochOfKeys(scopes.map(scopeKey));
      },
      async epochsSince(since) {
        return [...epochs].filter(([, epoch]) => epoch > since).flatMap(([k, epoch]) => {
          const scope = parseScopeKey(k);
          return scope ? [{ scope, epoch }] : [];
        });
      },
    },
    receivers: {
      create: receivers.create,
      async list() {
        return [...receivers.rows.values()].sort((a, b) => a.createdAt - b.createdAt).map(copy);
      },
    },
    keys: {
      async list(use) {
        return [...keys.values()].filter((k) => k.use === use).sort((a, b) => b.createdAt - a.createdAt).map(copy);
      },
      async add(key) {
        if (keys.has(key.kid)) throw new Error(`UNIQUE constraint failed: signing_keys.kid ${key.kid}`);
        keys.set(key.kid, copy(key));
      },
      async reseal(kid, sealedPrivate) {
        const k = keys.get(kid);
        if (k) k.sealedPrivate = sealedPrivate;
      },
    },
    secrets: {
      async put(name, sealedValue, now) {
        const old = secrets.get(name);
        secrets.set(name, old ? { ...old, sealedValue, updatedAt: now } : { name, sealedValue, createdAt: now, updatedAt: now });
      },
      async get(name) {
        return get(secrets, name);
      },
      async list() {
        return [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(copy);
      },
      async reseal(name, sealedValue) {
        const x = secrets.get(name);
        if (x) x.sealedValue = sealedValue;
      },
    },
    providerSessions: {
      async add(x) {
        sessions.push(copy(x));
      },
      async liveFor(taskId, now) {
        return sessions.filter((x) => x.taskId === taskId && x.expiresAt > now).map(copy);
      },
      async live(now) {
        return sessions.filter((x) => x.expiresAt > now).map(copy);
      },
    },
    audit: {
      async last() {
        return lastSeq === undefined ? undefined : get(audit, lastSeq);
      },
      async append(record) {
        if (audit.has(record.seq)) return false;
        audit.set(record.seq, copy(record));
        if (lastSeq === undefined || record.seq > lastSeq) lastSeq = record.seq;
        return true;
      },
      async listPushed(afterSeq, limit) {
        return [...audit.values()]
          .filter((r) => r.seq > afterSeq && PUSHED_TYPES.has(r.type))
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit)
          .map(copy);
      },
      async list(afterSeq, limit) {
        return [...audit.values()]
          .filter((r) => r.seq > afterSeq)
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit)
          .map(copy);
      },
      async checkpoint() {
        const top = Math.max(-1, ...checkpoints.keys());
        return get(checkpoints, top);
      },
      async addCheckpoint(c, keep) {
        if (!checkpoints.has(c.seq)) checkpoints.set(c.seq, copy(c));
        const old = [...checkpoints.keys()].sort((a, b) => b - a).slice(keep);
        for (const seq of old) checkpoints.delete(seq);
      },
      async prune(throughSeq, limit) {
        const seqs = [...audit.keys()].filter((q) => q <= throughSeq).sort((a, b) => a - b).slice(0, limit);
        for (const q of seqs) audit.delete(q);
        return seqs.length;
      },
    },
    // Nothing here outlives the process, so there is nothing to wait for.
    flush: () => Promise.resolve(),
    async purge(now, limit) {
      return purgeExpired(replay, now, limit) + purgeExpired(revokedTokens, now, limit);
    },
  };
}
