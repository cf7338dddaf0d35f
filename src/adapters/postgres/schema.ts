import type { JWK } from 'jose';
import type { ActionRequest } from '../../core/approvals/types.js';
import { bigint, boolean, index, integer, json, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The PostgreSQL schema, table for table and column for column the SQLite one
 * (../sqlite/schema.ts), so that both stores give the same answers. Times are milliseconds
 * since the epoch in `bigint` read back as JavaScript numbers (exact up to 2^53). JSON is kept
 * as `json` (the text as written), not `jsonb`. `npm run db:generate:pg` writes migrations/pg/.
 */
const ms = (name: string) => bigint(name, { mode: 'number' });

export const agents = pgTable('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  owner: text('owner').notNull(),
  jwks: json('jwks').$type<JWK[]>().notNull(),
  templates: json('templates').$type<string[]>().notNull(),
  status: text('status', { enum: ['active', 'locked'] }).notNull(),
  createdAt: ms('created_at').notNull(),
});

export const resources = pgTable('resources', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  audience: text('audience').notNull(),
  secretHash: text('secret_hash').notNull(),
  createdAt: ms('created_at').notNull(),
});

export const tasks = pgTable(
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
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [
    index('tasks_agent').on(t.agentId),
    index('tasks_environment').on(t.environment),
    index('tasks_jkt').on(t.jkt),
    index('tasks_created').on(t.createdAt, t.id),
    // Retention finds the tasks that expired longest ago in one index range.
    index('tasks_expiry').on(t.expiresAt),
  ],
);

export const taskEvents = pgTable(
  'task_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    taskId: text('task_id').notNull(),
    // The task's agent, copied at insert: an agent's recent events are one index range.
    agentId: text('agent_id').notNull().default(''),
    at: ms('at').notNull(),
    kind: text('kind').notNull(),
    detail: json('detail').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('task_events_task').on(t.taskId, t.kind, t.at), index('task_events_agent').on(t.agentId, t.kind, t.at)],
);

export const replay = pgTable(
  'replay',
  {
    namespace: text('namespace').notNull(),
    jti: text('jti').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.jti] }), index('replay_expiry').on(t.expiresAt)],
);

export const revokedTokens = pgTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [index('revoked_tokens_expiry').on(t.expiresAt)],
);

/** Revocation by scope (`all`, `agent:<id>`, `env:<name>`): one row per scope, its latest revocation. */
export const revocationEpochs = pgTable('revocation_epochs', {
  scope: text('scope').primaryKey(),
  epoch: ms('epoch').notNull(),
});

export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  use: text('use').notNull(),
  publicJwk: json('public_jwk').$type<JWK>().notNull(),
  sealedPrivate: text('sealed_private').notNull(),
  createdAt: ms('created_at').notNull(),
});

/**
 * The hash-chained audit log. `seq` is the primary key: of nodes racing to append the same
 * seq, the database lets exactly one in, and the others re-read the head (core/audit.ts).
 */
export const audit = pgTable(
  'audit',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: ms('at').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    taskId: text('task_id'),
    data: json('data').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  // An event stream's backlog reads only the pushed types (store `audit.listPushed`).
  (t) => [index('audit_type_seq').on(t.type, t.seq)],
);

/** Signed cuts of the audit chain (core/audit-checkpoint.ts): verification starts from the newest. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  at: ms('at').notNull(),
  jws: text('jws').notNull(),
});

export const receivers = pgTable('receivers', {
  id: text('id').primaryKey(),
  endpoint: text('endpoint').notNull(),
  audience: text('audience').notNull(),
  createdAt: ms('created_at').notNull(),
});

// ——— The approval service's tables (in its own database or schema) ———

export const approvers = pgTable(
  'approvers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    nameKey: text('name_key').notNull(),
    groups: json('groups').$type<string[]>().notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [uniqueIndex('approvers_name_key').on(t.nameKey)],
);

export const approverKeys = pgTable(
  'approver_keys',
  {
    kid: text('kid').primaryKey(),
    approverId: text('approver_id').notNull(),
    kind: text('kind', { enum: ['jwk', 'passkey'] }).notNull(),
    jwk: json('jwk').$type<JWK>(),
    publicKey: text('public_key'),
    counter: integer('counter').notNull().default(0),
    transports: json('transports').$type<string[]>(),
    createdAt: ms('created_at').notNull(),
    retiredAt: ms('retired_at'),
  },
  (t) => [index('approver_keys_approver').on(t.approverId)],
);

export const approverEnrolments = pgTable('approver_enrolments', {
  tokenHash: text('token_hash').primaryKey(),
  approverId: text('approver_id').notNull(),
  expiresAt: ms('expires_at').notNull(),
  usedAt: ms('used_at'),
});

export const approverSessions = pgTable('approver_sessions', {
  idHash: text('id_hash').primaryKey(),
  approverId: text('approver_id').notNull(),
  kid: text('kid').notNull(),
  createdAt: ms('created_at').notNull(),
  expiresAt: ms('expires_at').notNull(),
});

export const webauthnChallenges = pgTable('webauthn_challenges', {
  challenge: text('challenge').primaryKey(),
  purpose: text('purpose', { enum: ['enrol', 'signin', 'decision', 'keys'] }).notNull(),
  subject: text('subject').notNull(),
  expiresAt: ms('expires_at').notNull(),
});

export const approvalWebhooks = pgTable('approval_webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  createdAt: ms('created_at').notNull(),
});

export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    request: json('request').$type<ActionRequest>().notNull(),
    digest: text('digest').notNull(),
    quorum: integer('quorum').notNull(),
    groups: json('groups').$type<string[]>().notNull(),
    allowOwner: boolean('allow_owner').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'denied', 'expired', 'voided', 'delivered'] }).notNull(),
    statusReason: text('status_reason'),
    interval: integer('interval').notNull(),
    lastPollAt: ms('last_poll_at'),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [index('approval_requests_status').on(t.status, t.createdAt)],
);

export const approvalDecisions = pgTable(
  'approval_decisions',
  {
    requestId: text('request_id').notNull(),
    approverId: text('approver_id').notNull(),
    decision: text('decision', { enum: ['approve', 'deny'] }).notNull(),
    jti: text('jti').notNull(),
    at: ms('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.approverId] })],
);

export const secrets = pgTable('secrets', {
  name: text('name').primaryKey(),
  sealedValue: text('sealed_value').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

export const providerSessions = pgTable(
  'provider_sessions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    taskId: text('task_id').notNull(),
    provider: text('provider').notNull(),
    target: text('target').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [index('provider_sessions_task').on(t.taskId)],
);
