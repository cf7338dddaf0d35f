import type { JWK } from 'jose';
import type { ActionRequest } from '../../core/approvals/types.js';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * One SQLite schema for better-sqlite3 (Node) and D1 (Workers). Times are integer
 * milliseconds since the epoch. `npm run db:generate` writes migrations/ from this file.
 */

export const agents = sqliteTable('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  owner: text('owner').notNull(),
  jwks: text('jwks', { mode: 'json' }).$type<JWK[]>().notNull(),
  templates: text('templates', { mode: 'json' }).$type<string[]>().notNull(),
  status: text('status', { enum: ['active', 'locked'] }).notNull(),
  createdAt: integer('created_at').notNull(),
});

export const resources = sqliteTable('resources', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  audience: text('audience').notNull(),
  secretHash: text('secret_hash').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const tasks = sqliteTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id').notNull(),
    template: text('template').notNull(),
    environment: text('environment').notNull(),
    purpose: text('purpose').notNull(),
    jkt: text('jkt').notNull(),
    status: text('status', { enum: ['active', 'stopped', 'revoked', 'completed', 'expired'] }).notNull(),
    statusReason: text('status_reason'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  // tasks_expiry: retention finds the tasks that expired longest ago in one index range (migration 0007).
  (t) => [index('tasks_agent').on(t.agentId), index('tasks_environment').on(t.environment), index('tasks_jkt').on(t.jkt), index('tasks_expiry').on(t.expiresAt)],
);

export const taskEvents = sqliteTable(
  'task_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id').notNull(),
    // The task's agent, copied at insert (migration 0006): an agent's recent events are one
    // index range whatever the number of tasks it ever opened.
    agentId: text('agent_id').notNull().default(''),
    at: integer('at').notNull(),
    kind: text('kind').notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('task_events_task').on(t.taskId, t.kind, t.at), index('task_events_agent').on(t.agentId, t.kind, t.at)],
);

export const replay = sqliteTable(
  'replay',
  {
    namespace: text('namespace').notNull(),
    jti: text('jti').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.jti] }), index('replay_expiry').on(t.expiresAt)],
);

export const revokedTokens = sqliteTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('revoked_tokens_expiry').on(t.expiresAt)],
);

/**
 * Revocation by scope (`all`, `agent:<id>`, `env:<name>`): one row per scope holding the time
 * of its latest revocation. Every token issued at or before that second is dead, so revoking
 * an environment is one write whatever the number of live tokens.
 */
export const revocationEpochs = sqliteTable('revocation_epochs', {
  scope: text('scope').primaryKey(),
  epoch: integer('epoch').notNull(),
});

export const signingKeys = sqliteTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  use: text('use').notNull(),
  publicJwk: text('public_jwk', { mode: 'json' }).$type<JWK>().notNull(),
  sealedPrivate: text('sealed_private').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const audit = sqliteTable(
  'audit',
  {
    seq: integer('seq').primaryKey(),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    taskId: text('task_id'),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  // An event stream's backlog reads only the pushed types (store `audit.listPushed`).
  (t) => [index('audit_type_seq').on(t.type, t.seq)],
);

/** Signed cuts of the audit chain (core/audit-checkpoint.ts): verification starts from the newest. */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  seq: integer('seq').primaryKey(),
  hash: text('hash').notNull(),
  at: integer('at').notNull(),
  jws: text('jws').notNull(),
});

/** SET push receivers (RFC 8935): where revocations and stops are delivered as signed SETs. */
export const receivers = sqliteTable('receivers', {
  id: text('id').primaryKey(),
  endpoint: text('endpoint').notNull(),
  audience: text('audience').notNull(),
  createdAt: integer('created_at').notNull(),
});

// ——— The approval service's tables (they live in its own database file) ———

export const approvers = sqliteTable(
  'approvers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** The name normalised (NFKC, case-folded): unique, and what the owner rule compares. */
    nameKey: text('name_key').notNull(),
    groups: text('groups', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('approvers_name_key').on(t.nameKey)],
);

/** An approver's keys: JWKs (the CLI path) and passkeys (the console). Rotated or retired, never duplicated. */
export const approverKeys = sqliteTable(
  'approver_keys',
  {
    /** A JWK's thumbprint, or a passkey's credential id (base64url). */
    kid: text('kid').primaryKey(),
    approverId: text('approver_id').notNull(),
    kind: text('kind', { enum: ['jwk', 'passkey'] }).notNull(),
    jwk: text('jwk', { mode: 'json' }).$type<JWK>(),
    /** A passkey's COSE public key, base64url. */
    publicKey: text('public_key'),
    counter: integer('counter').notNull().default(0),
    transports: text('transports', { mode: 'json' }).$type<string[]>(),
    createdAt: integer('created_at').notNull(),
    retiredAt: integer('retired_at'),
  },
  (t) => [index('approver_keys_approver').on(t.approverId)],
);

/** One-time enrolment links (only the token's hash is kept). */
export const approverEnrolments = sqliteTable('approver_enrolments', {
  tokenHash: text('token_hash').primaryKey(),
  approverId: text('approver_id').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
});

/** Console sessions (only the cookie's hash is kept). */
export const approverSessions = sqliteTable('approver_sessions', {
  idHash: text('id_hash').primaryKey(),
  approverId: text('approver_id').notNull(),
  /** The passkey that opened it: retiring the key ends the session. */
  kid: text('kid').notNull(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** WebAuthn challenges handed out and not yet answered; each is taken once. */
export const webauthnChallenges = sqliteTable('webauthn_challenges', {
  challenge: text('challenge').primaryKey(),
  purpose: text('purpose', { enum: ['enrol', 'signin', 'decision', 'keys'] }).notNull(),
  subject: text('subject').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** Where the approval service announces new requests (signed notices, no secret). */
export const approvalWebhooks = sqliteTable('approval_webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const approvalRequests = sqliteTable(
  'approval_requests',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    request: text('request', { mode: 'json' }).$type<ActionRequest>().notNull(),
    digest: text('digest').notNull(),
    quorum: integer('quorum').notNull(),
    groups: text('groups', { mode: 'json' }).$type<string[]>().notNull(),
    allowOwner: integer('allow_owner', { mode: 'boolean' }).notNull(),
    status: text('status', { enum: ['pending', 'approved', 'denied', 'expired', 'voided', 'delivered'] }).notNull(),
    statusReason: text('status_reason'),
    interval: integer('interval').notNull(),
    lastPollAt: integer('last_poll_at'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('approval_requests_status').on(t.status, t.createdAt)],
);

export const approvalDecisions = sqliteTable(
  'approval_decisions',
  {
    requestId: text('request_id').notNull(),
    approverId: text('approver_id').notNull(),
    decision: text('decision', { enum: ['approve', 'deny'] }).notNull(),
    jti: text('jti').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.approverId] })],
);

/** Provider secrets, sealed (envelope) under the master key. Write-only through the API. */
export const secrets = sqliteTable('secrets', {
  name: text('name').primaryKey(),
  sealedValue: text('sealed_value').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Cloud sessions handed out per task, so that a stop can reach them (AWS: a deny policy). */
export const providerSessions = sqliteTable(
  'provider_sessions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskId: text('task_id').notNull(),
    provider: text('provider').notNull(),
    target: text('target').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('provider_sessions_task').on(t.taskId)],
);
