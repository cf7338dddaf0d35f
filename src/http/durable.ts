import type { MiddlewareHandler } from 'hono';
import { unavailable } from '../core/errors.js';
import type { Store } from '../core/ports.js';
import { errorResponse } from './errors.js';
import { OPERATIONS_PATHS } from './observability.js';

/**
 * No answer leaves before the writes it rests on are durable: the store may group commits, so
 * the response waits for the commit; if that commit fails, the answer becomes a 503 instead
 * (a token in it would not be in the audit log).
 */
export function durableResponses(store: () => Store): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (OPERATIONS_PATHS.has(c.req.path)) return;
    try {
      await store().flush();
    } catch (e) {
      c.res = undefined as never;
      c.res = errorResponse(c, unavailable('the store', e));
    }
  };
}
