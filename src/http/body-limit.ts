import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { StintError } from '../core/errors.js';
import { errorResponse } from './errors.js';

/**
 * Refuses bodies over `maxSize` with 413. A declared Content-Length is checked from the header
 * alone (no stream is opened: on Node that keeps the lightweight request object); a chunked
 * body goes through Hono's counting limit.
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = (c: Context) => errorResponse(c, new StintError('payload_too_large', `request bodies are limited to ${maxSize} bytes`, { status: 413 }));
  const counting = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && !c.req.header('transfer-encoding')) {
      if (!/^\d{1,12}$/.test(length) || Number(length) > maxSize) return tooLarge(c);
      return next();
    }
    return counting(c, next);
  };
}
