import { z } from 'zod';
import { StintError, type ErrorCode } from '../core/errors.js';
import { isSafeText, unsafeTextReason } from '../core/text.js';

/** Request shapes, validated at the edge so the core sees only well-formed input. */

/** No control characters (C0/C1) and no bidirectional overrides: see core/text.ts. */
const SAFE = { message: 'must not contain control characters or bidirectional overrides' };
const safe = <T extends z.ZodType<string>>(s: T) => s.refine(isSafeText, SAFE);
export const safeText = (max: number) => safe(z.string().max(max));
const shortText = (max: number) => safe(z.string().trim().min(1).max(max));
const capabilityName = z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'not a capability name');

export const taskDetailsSchema = z
  .array(
    z.object({
      type: z.literal('stint_task'),
      template: shortText(100),
      environment: shortText(100),
      purpose: shortText(1000),
    }),
  )
  .length(1, 'exactly one stint_task authorization detail');

export const capabilityDetailsSchema = z
  .array(
    z.object({
      type: z.literal('stint_capability'),
      actions: z.array(capabilityName).min(1).max(20),
      locations: z.array(z.url()).min(1).max(20).optional(),
    }),
  )
  .length(1, 'exactly one stint_capability authorization detail');

export const scopeSchema = z
  .string()
  .max(2000)
  .transform((s) => s.split(' ').filter(Boolean))
  .pipe(z.array(capabilityName).min(1).max(20));

const CAPABILITY_NAME = /^[a-z][a-z0-9_.-]{0,99}$/;
/**
 * `scopeSchema`, checked by hand: it is on every capability request, where zod's parse costs
 * ≈10–20 µs of the main thread. Same rules (test/schemas-scope.test.ts holds them together).
 */
export function parseScope(scope: string): string[] {
  const refuse = (why: string): never => {
    throw new StintError('invalid_scope', `scope: ${why}`);
  };
  if (scope.length > 2000) refuse('at most 2000 characters');
  const names = scope.split(' ').filter(Boolean);
  if (names.length < 1 || names.length > 20) refuse('between 1 and 20 capability names');
  for (const n of names) if (!CAPABILITY_NAME.test(n)) refuse('not a capability name');
  return names;
}

const publicJwk = z.looseObject({ kty: z.string().max(10), crv: z.string().max(20).optional(), kid: z.string().max(200).optional() });

export const agentRegistrationSchema = z.strictObject({
  name: shortText(200),
  owner: shortText(200),
  jwks: z.strictObject({ keys: z.array(publicJwk).min(1).max(10) }),
  templates: z.array(shortText(100)).max(100).optional(),
});

export const resourceRegistrationSchema = z.strictObject({
  name: shortText(200),
  audience: z.url({ protocol: /^https?$/ }).max(2000),
});

/** Parses or throws `code` naming the first offending field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, code: ErrorCode, label: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = [label, ...issue.path.map(String)].filter(Boolean).join('.');
  throw new StintError(code, `${where}: ${issue.message}`);
}

/**
 * Parses a JSON-valued form parameter (RFC 9396 `authorization_details`). JSON escapes can
 * spell any character, so every string in it is checked once decoded: a control character or
 * a bidirectional override anywhere is `invalid_request`, whatever the field.
 */
export function parseJsonParam(raw: string, code: ErrorCode, label: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new StintError(code, `${label} is not valid JSON`);
  }
  assertSafeStrings(value, label);
  return value;
}

/** Throws `invalid_request` naming the first string (value or key) that holds unsafe text. */
export function assertSafeStrings(value: unknown, label: string, depth = 0): void {
  if (depth > 20) throw new StintError('invalid_request', `${label} is nested too deeply`);
  if (typeof value === 'string') {
    const why = unsafeTextReason(value);
    if (why) throw new StintError('invalid_request', `${label} ${why}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertSafeStrings(v, `${label}.${i}`, depth + 1));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (unsafeTextReason(k)) throw new StintError('invalid_request', `${label} has a key with a control or bidirectional character`);
      assertSafeStrings(v, `${label}.${k}`, depth + 1);
    }
  }
}

export const signalSchema = z.strictObject({
  type: z.enum(['credential_substitution', 'environment_mismatch', 'tool_error']),
  token: z.string().min(1).max(16_384).optional(),
  /** The DPoP proof as the service received it, with the request's method and URL. */
  dpop: z.string().min(1).max(8192).optional(),
  htm: z.string().regex(/^[A-Z]{1,16}$/).optional(),
  htu: z.string().max(2048).optional(),
  /** Accepted for older verifiers; a bare thumbprint proves nothing and changes no task. */
  presented_jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an RFC 7638 SHA-256 thumbprint, base64url').optional(),
  task_id: z.string().regex(/^task_[A-Za-z0-9_-]{10,64}$/).optional(),
  detail: safeText(2000).optional(),
});

export const revocationSchema = z.union([
  z.strictObject({ agent: z.string().min(1).max(100) }),
  z.strictObject({ environment: z.string().min(1).max(100) }),
  z.strictObject({ all: z.literal(true) }),
]);

export const receiverSchema = z.strictObject({
  endpoint: z.url({ protocol: /^https?$/ }).max(2000),
  audience: z.string().min(1).max(2000).optional(),
});

export const approverSchema = z.strictObject({
  name: shortText(200),
  groups: z.array(shortText(100)).min(1).max(50),
  /** Optional: an approver may enrol a passkey from the console instead. */
  jwk: publicJwk.optional(),
});

export const approverKeySchema = z.strictObject({
  jwk: publicJwk,
  /** A kid to retire in the same call (rotation). */
  replaces: z.string().min(1).max(200).optional(),
});

export const webhookSchema = z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2000) });

export const decisionSchema = z.strictObject({ decision_jws: z.string().min(1).max(16_384) });

const text = (max: number) => z.string().max(max);
// The approval service checks again what the broker should have refused: it is what approvers see.
export const actionRequestSchema = z.strictObject({
  task_id: text(100),
  template: safeText(100),
  agent: safeText(100),
  agent_name: safeText(200),
  owner: safeText(200),
  environment: safeText(100),
  capability: safeText(100),
  resource: safeText(2000),
  purpose: safeText(1000),
  jkt: text(100),
  trajectory: z.array(z.object({ at: z.string(), kind: z.string(), detail: z.record(z.string(), z.unknown()) })).max(10_000),
  binding_message: safeText(200).optional(),
});

export const internalCallSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('open'), client_id: text(100), request: actionRequestSchema }),
  z.strictObject({ op: z.literal('poll'), client_id: text(100), auth_req_id: text(100), jkt: text(100) }),
  z.strictObject({
    op: z.literal('find'),
    client_id: text(100),
    candidates: z.array(text(100)).max(10),
    action: actionRequestSchema.pick({ task_id: true, capability: true, resource: true, environment: true, jkt: true, binding_message: true }),
  }),
  z.strictObject({
    op: z.literal('void'),
    reason: text(500),
    scope: z.union([
      z.strictObject({ task_id: text(100) }),
      z.strictObject({ agent: text(100), before: z.number() }),
      z.strictObject({ environment: text(100), before: z.number() }),
      z.strictObject({ all: z.literal(true), before: z.number() }),
    ]),
  }),
]);

export const secretSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'lowercase letters, digits, ., - and _'),
  value: z.string().min(1).max(16_384),
});

/** GET /v1/tasks and GET /v1/agents query strings (the operator's listings). */
const listLimit = z
  .string()
  .regex(/^\d{1,3}$/, 'an integer from 1 to 500')
  .transform(Number)
  .pipe(z.number().int().min(1).max(500))
  .optional();
const listCursor = z.string().regex(/^[A-Za-z0-9_-]{1,400}$/, 'a next_cursor from a previous page').optional();

export const taskListQuerySchema = z.strictObject({
  status: z.enum(['active', 'stopped', 'revoked', 'completed', 'expired']).optional(),
  agent: z.string().min(1).max(100).optional(),
  environment: z.string().min(1).max(100).optional(),
  cursor: listCursor,
  limit: listLimit,
});

export const agentListQuerySchema = z.strictObject({ cursor: listCursor, limit: listLimit });
