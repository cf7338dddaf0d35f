import type { Context } from 'hono';
import { StintError } from '../core/errors.js';
import { unsafeTextReason } from '../core/text.js';

/**
 * Reads an `application/x-www-form-urlencoded` body the way RFC 6749 §3.2 wants it: the
 * right media type, and no parameter sent twice (even when one of the copies is empty: an
 * empty first copy must not let a second one through). No parameter of ours holds control
 * characters or bidirectional overrides, so a value that does is refused here, before any of
 * it can reach a screen or the log.
 */
export async function readForm(c: Context): Promise<Map<string, string>> {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new StintError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(await c.req.text());
  } catch (e) {
    throw new StintError('invalid_request', 'the body could not be read', { cause: e });
  }
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const [k, v] of params) {
    if (unsafeTextReason(k)) throw new StintError('invalid_request', 'a parameter name contains a control or bidirectional character');
    if (seen.has(k)) throw new StintError('invalid_request', `parameter ${k} was sent more than once`);
    seen.add(k);
    const why = unsafeTextReason(v);
    if (why) throw new StintError('invalid_request', `parameter ${k} ${why}`);
    if (v !== '') out.set(k, v);
  }
  return out;
}

/** Reads a JSON object body for the management API. */
export async function readJson(c: Context): Promise<unknown> {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new StintError('unsupported_media_type', 'the body must be application/json');
  try {
    return JSON.parse(await c.req.text());
  } catch (e) {
    throw new StintError('invalid_request', 'the body is not valid JSON', { cause: e });
  }
}
