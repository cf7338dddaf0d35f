import type { MiddlewareHandler } from 'hono';

/** Headers every response of an app carries. */
export function standardHeaders(headers: Record<string, string>): MiddlewareHandler {
  const entries = Object.entries(headers);
  return async (c, next) => {
    // Set before the handler, they go into the response it builds; set after, Hono would
    // rebuild that response around its body stream (measurable on every request).
    for (const [k, v] of entries) c.header(k, v);
    await next();
    // A handler that returned a Response of its own (an event stream) lacks them still.
    for (const [k, v] of entries) if (!c.res.headers.has(k)) c.header(k, v);
  };
}
