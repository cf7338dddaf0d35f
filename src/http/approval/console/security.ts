import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { randomId, sha256 } from '../../../core/encoding.js';
import { StintError } from '../../../core/errors.js';
import { clientAddress } from '../../client-address.js';
import { errorResponse } from '../../errors.js';
import { consoleOrigin, type ApprovalEnv } from '../env.js';

/** How long a console session lasts, seconds. */
export const SESSION_TTL = 8 * 3600;

/**
 * The console's headers: a strict CSP (scripts and styles from this origin only, so no inline
 * script or style runs; nothing may frame it; forms post only here), no referrer, no sniffing.
 */
export const consoleHeaders: MiddlewareHandler = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  // same-origin, not no-referrer: under no-referrer a form POST carries `Origin: null`.
  referrerPolicy: 'same-origin',
  xFrameOptions: 'DENY',
  crossOriginOpenerPolicy: 'same-origin',
  crossOriginResourcePolicy: 'same-origin',
});

const secure = (c: Context<ApprovalEnv>) => consoleOrigin(c.get('deps')).startsWith('https:');
/** `__Host-` needs Secure: on plain-http localhost the cookie goes without the prefix. */
const cookieName = (c: Context<ApprovalEnv>) => (secure(c) ? '__Host-stint_console' : 'stint_console');

/** A session for the approver, tied to the passkey that opened it (retiring the key ends it). */
export async function startSession(c: Context<ApprovalEnv>, approverId: string, kid: string) {
  const { core } = c.get('deps');
  const id = randomId('', 32);
  const now = core.clock.now();
  await core.approvals.sessions.create({ idHash: sha256(id), approverId, kid, createdAt: now, expiresAt: now + SESSION_TTL * 1000 });
  setCookie(c, cookieName(c), id, { httpOnly: true, sameSite: 'Strict', secure: secure(c), path: '/', maxAge: SESSION_TTL });
}

export async function endSession(c: Context<ApprovalEnv>) {
  const id = getCookie(c, cookieName(c));
  if (id) await c.get('deps').core.approvals.sessions.delete(sha256(id));
  deleteCookie(c, cookieName(c), { path: '/', secure: secure(c) });
}

/** The signed-in approver, if any (sets `approver`). */
export const readSession = createMiddleware<ApprovalEnv>(async (c, next) => {
  const id = getCookie(c, cookieName(c));
  if (id) {
    const { core } = c.get('deps');
    const approverId = await core.approvals.sessions.get(sha256(id), core.clock.now());
    const approver = approverId ? await core.approvals.approvers.get(approverId) : undefined;
    if (approver) c.set('approver', approver);
  }
  await next();
});

/** JSON calls of the console need a session: 401 otherwise. */
export const requireSession = createMiddleware<ApprovalEnv>(async (c, next) => {
  if (!c.get('approver')) throw new StintError('unauthorized', 'sign in first');
  await next();
});

/**
 * Every state change must come from the console's own pages: the `Origin` header names the
 * console's origin exactly (a cross-site form or fetch names another, or none).
 */
export const sameOrigin = createMiddleware<ApprovalEnv>(async (c, next) => {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    const origin = c.req.header('Origin');
    if (origin !== consoleOrigin(c.get('deps'))) throw new StintError('forbidden', `cross-origin request refused (Origin: ${origin ?? 'none'})`);
  }
  await next();
});

/**
 * A fixed-window limit per source and bucket (sign-in and enrolment ceremonies): beyond it,
 * 429 with Retry-After. In memory, per instance: a brake on guessing, not an accounting.
 */
export function rateLimit(bucket: string, limit: number, windowSec: number): MiddlewareHandler<ApprovalEnv> {
  // Per app (the route modules are shared by every app built in a process).
  const perApp = new WeakMap<object, Map<string, { start: number; count: number }>>();
  return async (c, next) => {
    const deps = c.get('deps');
    let windows = perApp.get(deps);
    if (!windows) perApp.set(deps, (windows = new Map()));
    const now = deps.core.clock.now();
    // The socket's peer on Node (a CF-Connecting-IP header there is the client's own word), Cloudflare's on Workers.
    const key = clientAddress(c);
    let w = windows.get(key);
    if (!w || now - w.start >= windowSec * 1000) {
      if (windows.size > 10_000) windows.clear();
      w = { start: now, count: 0 };
      windows.set(key, w);
    }
    if (++w.count > limit) {
      const retry = Math.max(1, Math.ceil((w.start + windowSec * 1000 - now) / 1000));
      const res = errorResponse(c, new StintError('too_many_requests', `too many ${bucket} attempts; try again in ${retry}s`));
      res.headers.set('Retry-After', String(retry));
      return res;
    }
    await next();
  };
}
