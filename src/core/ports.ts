import type { JWK } from 'jose';
import type { RevocationScope } from './scope.js';

/**
 * The ports the core needs from its runtime. Stores are written in neutral terms; each method
 * is one statement so that it works on SQLite and D1 alike (D1 has no interactive
 * transactions). Concurrency promises are stated per method.
 */

/** Milliseconds since the epoch. Injected everywhere a TTL is computed; tests freeze it. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export type AgentStatus = 'active' | 'locked';
export interface AgentRecord {
  id: string;
  name: string;
  owner: string;
  jwks: JWK[];
  templates: string[];
  status: AgentStatus;
  createdAt: number;
}

export interface ResourceRecord {
  id: string;
  name: string;
  audience: string;
  /** SHA-256 of the client secret, base64url. The secret itself is never stored. */
  secretHash: string;
  createdAt: number;
}

export type TaskStatus = 'active' | 'stopped' | 'revoked' | 'completed' | 'expired';
export interface TaskRecord {
  id: string;
  agentId: string;
  template: string;
  environment: string;
  purpose: string;
  /** RFC 7638 thumbprint of the DPoP key the task is bound to. */
  jkt: string;
  status: TaskStatus;
  statusReason: string | null;
  createdAt: number;
  expiresAt: number;
}

export type TaskEventKind = 'opened' | 'grant' | 'denial' | 'signal' | 'stop' | 'revoke' | 'complete' | 'approval' | 'tool';
export interface TaskEvent {
  taskId: string;
  at: number;
  kind: TaskEventKind;
  detail: Record<string, unknown>;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** What the key signs: `task` (task and capability tokens) or `approval`. */
  use: string;
  publicJwk: JWK;
  /** The private JWK, sealed by the `Sealer`. */
  sealedPrivate: string;
  createdAt: number;
}

export interface SecretRecord {
  name: string;
  sealedValue: string;
  createdAt: number;
  updatedAt: number;
}

export interface ProviderSessionRecord {
  taskId: string;
  provider: string;
  /** What the session is for (AWS: the role ARN). */
  target: string;
  expiresAt: number;
}

export interface ReceiverRecord {
  id: string;
  /** Where SETs are POSTed (RFC 8935). */
  endpoint: string;
  /** The SET `aud`. */
  audience: string;
  createdAt: number;
}

export interface AuditRecord {
  seq: number;
  at: number;
  type: string;
  actor: string;
  taskId: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** A keyset cursor: the (createdAt, id) of the last row of the previous page. */
export interface ListCursor {
  createdAt: number;
  id: string;
}
export interface TaskListQuery {
  /** Stored status, any of these (the core settles `active` rows past expiry or revocation). */
  statuses?: TaskStatus[];
  agentId?: string;
  environment?: string;
  /** Rows strictly older than this one, in (createdAt desc, id desc) order. */
  before?: ListCursor;
  limit: number;
}
export interface AgentListQuery {
  before?: ListCursor;
  limit: number;
}

/**
 * Listings for the operator API (GET /v1/tasks, GET /v1/agents): newest first, keyset
 * pagination on (createdAt, id), one statement per page. Kept apart from the hot-path ports.
 */
export interface ListingStore {
  tasks(q: TaskListQuery): Promise<TaskRecord[]>;
  agents(q: AgentListQuery): Promise<AgentRecord[]>;
}

export interface AgentStore {
  create(agent: AgentRecord): Promise<void>;
  get(id: string): Promise<AgentRecord | undefined>;
  /** Returns whether the status changed: of concurrent callers setting the same status, exactly one gets `true`. */
  setStatus(id: string, status: AgentStatus): Promise<boolean>;
}

export interface ResourceStore {
  create(resource: ResourceRecord): Promise<void>;
  get(id: string): Promise<ResourceRecord | undefined>;
}

export interface TaskStore {
  create(task: TaskRecord): Promise<void>;
  get(id: string): Promise<TaskRecord | undefined>;
  /**
   * A task with, read in one statement, the latest revocation epoch of its scopes (everything,
   * its agent, its environment: scope.ts's `scopesOf`) and whether token `jti` is revoked.
   * Every token check asks exactly this; one statement instead of three is ≈30 µs less per
   * request on Node and two fewer round trips on D1.
   */
  state(id: string, jti?: string): Promise<{ task?: TaskRecord; epoch: number; revoked: boolean }>;
  /**
   * Moves a task out of `active` in one guarded statement. Exactly one concurrent caller
   * gets `true`; the others see the task already ended.
   */
  end(id: string, status: Exclude<TaskStatus, 'active'>, reason: string): Promise<boolean>;
  /** Active tasks bound to a DPoP key thumbprint, optionally of one agent. */
  activeByKey(jkt: string, agentId?: string): Promise<TaskRecord[]>;
  /** Appends; a task's events keep the order they were added in. */
  addEvent(event: TaskEvent): Promise<void>;
  events(id: string): Promise<TaskEvent[]>;
  /** A task's events of the given kinds (one or two) at or after `since` (ms), oldest first. */
  recentEvents(id: string, kinds: TaskEventKind[], since: number): Promise<TaskEvent[]>;
  /**
   * The same across every task of an agent, oldest first: refusals and failures count against
   * the agent, so opening a fresh task does not wipe its history (task hopping). One to three
   * kinds, at most 1,000 events. Every token exchange calls it: its cost must be bounded by an
   * index on (agent, kind, at), never grow with the number of tasks the agent ever opened.
   */
  recentEventsOfAgent(agentId: string, kinds: TaskEventKind[], since: number): Promise<TaskEvent[]>;
  /**
   * Retention: drops up to `limit` events of tasks that expired before `before` (ms), oldest
   * expiry first, and those tasks' provider sessions, then up to `limit` of those tasks once no
   * event of theirs is left. Every task
   * expires, so a task past its expiry has ended whatever its stored status. Says how many rows went.
   */
  pruneExpired(before: number, limit: number): Promise<number>;
}

/**
 * One-time identifiers (client assertion and DPoP proof `jti`s). `consume` inserts the
 * pair; exactly one caller per (namespace, jti) gets `true`, however many race.
 */
export interface ReplayStore {
  consume(namespace: string, jti: string, expiresAt: number): Promise<boolean>;
}

/** Revoked token ids and per-scope revocation epochs (a scope is stored by its `scopeKey`). */
export interface RevocationStore {
  /** Idempotent: revoking a revoked token again changes nothing. */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
  /** Raises a scope's epoch to at least `epoch` (ms) in one statement: concurrent raises never lower it. */
  raiseEpoch(scope: RevocationScope, epoch: number): Promise<void>;
  /** The latest epoch among the scopes (one to three), 0 if none was ever revoked. */
  epochOf(scopes: RevocationScope[]): Promise<number>;
  /** Every scope whose epoch is after `since` (ms): the revocations still young enough to matter to a provider. */
  epochsSince(since: number): Promise<{ scope: RevocationScope; epoch: number }[]>;
}

/** SET receivers (RFC 8935 push). */
export interface ReceiverStore {
  create(receiver: ReceiverRecord): Promise<void>;
  list(): Promise<ReceiverRecord[]>;
}

/** Signing keys, newest first. */
export interface KeyStore {
  list(use: string): Promise<SigningKeyRecord[]>;
  add(key: SigningKeyRecord): Promise<void>;
  /** Replaces a key's sealed form (master key rotation). */
  reseal(kid: string, sealedPrivate: string): Promise<void>;
}

export interface SecretStore {
  /** Creates or replaces, in one statement (`createdAt` kept on replace). */
  put(name: string, sealedValue: string, now: number): Promise<void>;
  get(name: string): Promise<SecretRecord | undefined>;
  /** By name. */
  list(): Promise<SecretRecord[]>;
  reseal(name: string, sealedValue: string): Promise<void>;
}

/** Sessions a credential provider issued for a task (what revoking the task must reach). */
export interface ProviderSessionStore {
  add(s: ProviderSessionRecord): Promise<void>;
  /** Sessions of a task that may still be live at `now`. */
  liveFor(taskId: string, now: number): Promise<ProviderSessionRecord[]>;
  /** Every session that may still be live at `now`. */
  live(now: number): Promise<ProviderSessionRecord[]>;
}

/**
 * A signed cut of the audit chain: every record up to `seq` may be gone, and the chain goes on
 * from `hash` (the hash of record `seq`). `jws` is the broker's signature over both; the columns
 * only index it, verification trusts the JWS alone (core/audit-checkpoint.ts).
 */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  /** When the checkpoint was made (ms). */
  at: number;
  jws: string;
}

/** The hash-chained audit log. */
export interface AuditStore {
  last(): Promise<AuditRecord | undefined>;
  /** Inserts at `record.seq`; `false` if that seq is already taken (a concurrent writer): of writers racing for one seq, exactly one gets `true`. */
  append(record: AuditRecord): Promise<boolean>;
  list(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  /** The checkpoint of the highest seq, if the log was ever cut. */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  /** Stores a checkpoint (a second one at the same seq changes nothing) and drops all but the newest `keep`. */
  addCheckpoint(c: AuditCheckpoint, keep: number): Promise<void>;
  /** Drops up to `limit` records with seq ≤ `throughSeq`, lowest first; says how many went. */
  prune(throughSeq: number, limit: number): Promise<number>;
  /**
   * The records of the pushed types (core/events.ts `PUSHED_TYPES`) after `afterSeq`, in seq
   * order: an event stream's backlog. Read through an index on (type, seq), so its cost follows
   * the revocations and stops in the window, not every token issued in it.
   */
  listPushed(afterSeq: number, limit: number): Promise<AuditRecord[]>;
}

/** Housekeeping and durability, for the store as a whole. */
export interface StoreMaintenance {
  /** Drops up to `limit` expired replay rows and as many expired revocation rows; says how many went. */
  purge(now: number, limit: number): Promise<number>;
  /**
   * Resolves once every write made so far is durable; rejects if it could not be made so.
   * Stores that commit each statement as it runs resolve at once; a store that groups writes
   * into one commit per turn resolves after that commit. Nothing is answered before this.
   */
  flush(): Promise<void>;
  /**
   * Resolves once everything any writer (another process, another node) has committed so far is
   * durable. Needed only where a commit is visible before it is durable (PostgreSQL with
   * asynchronous commits); elsewhere absent, and `flush` is enough for what this process reads.
   */
  barrier?(): Promise<void>;
}

/** The whole store port: one store per concern, plus housekeeping. */
export interface Store extends StoreMaintenance {
  listings: ListingStore;
  agents: AgentStore;
  resources: ResourceStore;
  tasks: TaskStore;
  replay: ReplayStore;
  revocations: RevocationStore;
  receivers: ReceiverStore;
  keys: KeyStore;
  secrets: SecretStore;
  providerSessions: ProviderSessionStore;
  audit: AuditStore;
}

/** Seals secrets at rest (the private signing keys, provider secrets). */
export interface Sealer {
  seal(plaintext: Uint8Array): Promise<string>;
  open(sealed: string): Promise<Uint8Array>;
  /** The same secret wrapped under the current master key, or undefined if it already is. */
  rewrap(sealed: string): Promise<string | undefined>;
}

/** XSalsa20-Poly1305 secretbox (libsodium's format): the primitive the envelope is built on. */
export interface SecretBox {
  /** nonce ‖ ciphertext+tag */
  seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws if the box does not open under `key`. */
  open(key: Uint8Array, box: Uint8Array): Uint8Array;
}

/**
 * Revocations and stops, pushed to whoever listens (SSE subscribers, SET push). Events are
 * audit records of the pushed types, so the audit `seq` is the event id and the log is the
 * durable backlog a subscriber resumes from.
 */
export interface EventBus {
  publish(record: AuditRecord): void;
}
export const nullBus: EventBus = { publish: () => {} };
