import type {
  AgentRecord,
  AuditRecord,
  ProviderSessionRecord,
  ReceiverRecord,
  ResourceRecord,
  SecretRecord,
  SigningKeyRecord,
  Store,
  TaskEvent,
  TaskRecord,
} from '../../core/ports.js';
import { scopeKey, scopesOf } from '../../core/scope.js';

/**
 * The store port in memory: the reference the SQL stores are held to, and what core tests run
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
  const agents = new Map<string, AgentRecord>();
  const resources = new Map<string, ResourceRecord>();
  const tasks = new Map<string, TaskRecord>();
  const events: TaskEvent[] = [];
  /** Keyed by namespace and jti; insertion order stands in for SQLite's rowid. */
  const replay = new Map<string, number>();
  const revokedTokens = new Map<string, number>();
  const epochs = new Map<string, number>();
  const receivers = new Map<string, ReceiverRecord>();
  const keys = new Map<string, SigningKeyRecord>();
  const secrets = new Map<string, SecretRecord>();
  const sessions: ProviderSessionRecord[] = [];
  const audit = new Map<number, AuditRecord>();
  let lastSeq: number | undefined;

  const copy = <T>(v: T): T => structuredClone(v);
  const insert = <K, V>(table: string, m: Map<K, V>, key: K, value: V) => {
    if (m.has(key)) throw new Error(`UNIQUE constraint failed: ${table} ${String(key)}`);
    m.set(key, copy(value));
  };
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

  return {
    agents: {
      async create(agent) {
        insert('agents', agents, agent.id, agent);
      },
      async get(id) {
        return get(agents, id);
      },
      async setStatus(id, status) {
        const a = agents.get(id);
        if (!a || a.status === status) return false;
        a.status = status;
        return true;
      },
    },
    resources: {
      async create(resource) {
        insert('resources', resources, resource.id, resource);
      },
      async get(id) {
        return get(resources, id);
      },
    },
    tasks: {
      async create(task) {
        insert('tasks', tasks, task.id, task);
      },
      async get(id) {
        return get(tasks, id);
      },
      async state(id, jti) {
        const task = tasks.get(id);
        if (!task) return { epoch: 0, revoked: false };
        return {
          task: copy(task),
          epoch: epochOfKeys(scopesOf(task.agentId, task.environment).map(scopeKey)),
          revoked: jti !== undefined && revokedTokens.has(jti),
        };
      },
      async end(id, status, reason) {
        const t = tasks.get(id);
        if (!t || t.status !== 'active') return false;
        t.status = status;
        t.statusReason = reason;
        return true;
      },
      async activeByKey(jkt, agentId) {
        return [...tasks.values()].filter((t) => t.jkt === jkt && t.status === 'active' && (agentId === undefined || t.agentId === agentId)).map(copy);
      },
      async addEvent(event) {
        events.push(copy(event));
      },
      async events(id) {
        return events.filter((e) => e.taskId === id).map(copy);
      },
      async recentEvents(id, kinds, since) {
        if (kinds.length === 0 || kinds.length > 2) throw new Error('recentEvents takes one or two kinds');
        return events.filter((e) => e.taskId === id && kinds.includes(e.kind) && e.at >= since).map(copy);
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
    },
    receivers: {
      async create(receiver) {
        insert('receivers', receivers, receiver.id, receiver);
      },
      async list() {
        return [...receivers.values()].sort((a, b) => a.createdAt - b.createdAt).map(copy);
      },
    },
    keys: {
      async list(use) {
        return [...keys.values()].filter((k) => k.use === use).sort((a, b) => b.createdAt - a.createdAt).map(copy);
      },
      async add(key) {
        insert('signing_keys', keys, key.kid, key);
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
      async list(afterSeq, limit) {
        return [...audit.values()]
          .filter((r) => r.seq > afterSeq)
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit)
          .map(copy);
      },
    },
    // Nothing here outlives the process, so there is nothing to wait for.
    flush: () => Promise.resolve(),
    async purge(now, limit) {
      return purgeExpired(replay, now, limit) + purgeExpired(revokedTokens, now, limit);
    },
  };
}
