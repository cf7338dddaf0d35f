/**
 * One error family for the whole product. Every refusal carries a stable `code` from the
 * registry below; the HTTP layer maps it to an RFC 6749 body on OAuth endpoints and an
 * RFC 9457 problem on the management API. Codes are the OAuth `error` strings where one exists.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_authorization_details: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  approval_required: 400,
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  access_denied: 400,
  invalid_binding_message: 400,
  task_stopped: 400,
  invalid_token: 401,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  server_error: 500,
  not_implemented: 501,
  temporarily_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface StintErrorOptions {
  /** Extra top-level members for the error body (e.g. `auth_req_id`). */
  fields?: Record<string, unknown>;
  /** Internal cause; never sent to the client. */
  cause?: unknown;
  /** Overrides the registry's status (e.g. 401 `invalid_token` vs 400 at the token endpoint). */
  status?: number;
  /** The refusal is already in the audit log (with its task), so outer layers do not record it again. */
  recorded?: boolean;
  /** Machine-readable detail for callers inside stint (e.g. `expired`); never sent. */
  reason?: string;
  /** Seconds before a retry may succeed (a 429 or 503's `Retry-After`). */
  retryAfter?: number;
}

export class StintError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: Record<string, unknown>;
  readonly reason: string | undefined;
  readonly retryAfter: number | undefined;
  /** Set once the refusal is in the audit log, so outer layers do not record it again. */
  readonly recorded: boolean;

  constructor(code: ErrorCode, description: string, options: StintErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StintError';
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.fields = options.fields ?? {};
    this.reason = options.reason;
    this.retryAfter = options.retryAfter;
    this.recorded = options.recorded ?? false;
  }
}

export const isStintError = (e: unknown): e is StintError => e instanceof StintError;

/** A store, the audit log or a key could not be read or written: fail closed, issue nothing. */
export const unavailable = (what: string, cause: unknown) =>
  new StintError('temporarily_unavailable', `${what} is unavailable; nothing was issued`, { cause });
