import type { Context, MiddlewareHandler } from 'hono';
import { StintError } from '../core/errors.js';
import { clientAddress } from './client-address.js';
import { errorResponse } from './errors.js';

/**
 * A token bucket per source address, in memory, for the unauthenticated doors (`/token`,
 * `/bc-authorize`, the approval service): signature checks cost CPU and refusals cost log, so
 * one client must not be able to spend either at will. Per process, not shared: with several
 * instances a source gets each one's allowance, which is still a bound. The defaults are far
 * above what one honest agent, harness or approver sends (a benchmark on loopback turns it off
 * with `STINT_RATE_LIMIT=off`).
 */
export interface RateLimitOptions {
  /** Requests a source may send at once. */
  burst: number;
  /** Requests per second a source regains. */
  perSecond: number;
  /** Sources remembered at most; beyond it the idle ones are forgotten first. */
  maxSources?: number;
  /** Where a request comes from (default: the socket's peer, or CF-Connecting-IP on Workers). */
  source?: (c: Context) => string;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 600, perSecond: 300 };

/** `STINT_RATE_LIMIT`: `off`, or `<burst>/<per second>` such as `600/300`. */
export function parseRateLimit(value: string | undefined): RateLimitOptions | false {
  if (value === undefined || value === '') return DEFAULT_RATE_LIMIT;
  if (/^(off|0|false|none)$/i.test(value.trim())) return false;
  const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new Error(`STINT_RATE_LIMIT must be "off" or "<burst>/<per second>", got "${value}"`);
  return { burst: Number(m[1]), perSecond: Number(m[2]) };
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly max: number;

  constructor(
    private readonly o: RateLimitOptions,
    private readonly now: () => number,
  ) {
    this.max = o.maxSources ?? 100_000;
  }

  /** Takes one token for `source`: 0 when allowed, else the seconds until one is back. */
  take(source: string): number {
    const now = this.now();
    const b = this.buckets.get(source);
    let tokens = this.o.burst;
    if (b) {
      tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.perSecond);
      this.buckets.delete(source); // re-inserted below: the map's order is least recently seen first
    }
    if (tokens < 1) {
      this.buckets.set(source, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.o.perSecond));
    }
    this.buckets.set(source, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.max) this.buckets.delete(this.buckets.keys().next().value!);
    return 0;
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** The middleware: 429 `too_many_requests` with `Retry-After`, in the path's own error form. */
export function rateLimit(o: RateLimitOptions, now: () => number): MiddlewareHandler {
  const buckets = new TokenBuckets(o, now);
  const source = o.source ?? clientAddress;
  return async (c, next) => {
    const wait = buckets.take(source(c));
    if (wait > 0) {
      const res = errorResponse(c, new StintError('too_many_requests', `too many requests from this address; retry in ${wait}s`));
      res.headers.set('Retry-After', String(wait));
      return res;
    }
    await next();
  };
}
