import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { StintError } from '../core/errors.js';
import { errorResponse } from './errors.js';

/**
 * What a runtime may put in the app's env to read request bodies its own, cheaper way (Node:
 * straight from the socket). Rejects with RawBodyTooLarge past `max` bytes.
 */
export interface RawBodySource {
  readRawBody?: (max: number) => Promise<string>;
}
export class RawBodyTooLarge extends Error {}

/**
 * Refuses bodies over `maxSize` with 413. Where the runtime reads bodies itself, the body is
 * read here, counted, and handed to Hono's body cache, so that every `c.req.text()` after
 * this gets it. Elsewhere, a declared Content-Length is checked from the header alone and a
 * chunked body goes through Hono's counting limit.
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = (c: Context) => errorResponse(c, new StintError('payload_too_large', `request bodies are limited to ${maxSize} bytes`, { status: 413 }));
  const counting = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    const declared = length !== undefined && !c.req.header('transfer-encoding');
    if (declared && (!/^\d{1,12}$/.test(length) || Number(length) > maxSize)) return tooLarge(c);
    const raw = (c.env as RawBodySource | undefined)?.readRawBody;
    if (raw) {
      let text: string;
      try {
        text = await raw(maxSize);
      } catch (e) {
        if (e instanceof RawBodyTooLarge) return tooLarge(c);
        throw new StintError('invalid_request', 'the body could not be read', { cause: e });
      }
      // Hono keeps the pending read per body type (its declared type says otherwise).
      (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
      return next();
    }
    return declared ? next() : counting(c, next);
  };
}
