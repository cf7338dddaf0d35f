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

  /** 0 if `source` has a token left (taking none), else the seconds until it has one. */
  wait(source: string): number {
    const b = this.buckets.get(source);
    if (!b) return 0;
    const tokens = Math.min(this.o.burst, b.tokens + ((this.now() - b.at) / 1000) * this.o.perSecond);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.o.perSecond));
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
    if (wait > 0) return errorResponse(c, new StintError('too_many_requests', `too many requests from this address; retry in ${wait}s`, { retryAfter: wait }));
    await next();
  };
}

/**
 * The broker's limits (issue 23): an address is charged only for requests refused before any
 * client authenticated (guessing, junk), never for successes and never for an authenticated
 * client's traffic, so an honest agent behind a shared address is not punished for a junk
 * sender beside it. Authenticated traffic is limited per client (the agent at /token and
 * /bc-authorize) and, on the paths an agent can use to grow the log (`/access/v1/*`,
 * `/v1/signals`), per task and per reporting service.
 */
export interface BrokerLimitOptions extends RateLimitOptions {
  /** Per authenticated client (default: the same figures as the address's). */
  clients?: { burst: number; perSecond: number };
  /** Per task and per reporting source, on `/access/v1/*` and `/v1/signals`. */
  reports?: { burst: number; perSecond: number };
}

/** Per task / per source on the report paths: far above one guard's tool calls, far below a flood. */
export const DEFAULT_REPORT_LIMIT = { burst: 120, perSecond: 20 };
/** How long a client's success vouches for its address (see BrokerLimits). */
const VOUCH_MS = 10 * 60_000;
/** An address some client succeeded from may fail this many times its budget before it is refused unread. */
const VOUCHED_FACTOR = 10;

export class BrokerLimits {
  /** Per address: refusals before authentication. */
  readonly failures: TokenBuckets;
  /** Per address, for one that a client recently authenticated from: a ceiling ten times higher. */
  readonly vouchedFailures: TokenBuckets;
  /** Per authenticated client. */
  readonly clients: TokenBuckets;
  /** Per task or reporting service, on the report paths. */
  readonly reports: TokenBuckets;
  readonly source: (c: Context) => string;
  /** Addresses a client authenticated from, until when (least recently vouched first). */
  private readonly vouched = new Map<string, number>();
  private readonly maxSources: number;

  constructor(
    o: BrokerLimitOptions,
    private readonly now: () => number,
  ) {
    this.failures = new TokenBuckets(o, now);
    this.vouchedFailures = new TokenBuckets({ burst: o.burst * VOUCHED_FACTOR, perSecond: o.perSecond * VOUCHED_FACTOR, maxSources: o.maxSources }, now);
    this.clients = new TokenBuckets({ ...(o.clients ?? o), maxSources: o.maxSources }, now);
    this.reports = new TokenBuckets({ ...(o.reports ?? DEFAULT_REPORT_LIMIT), maxSources: o.maxSources }, now);
    this.source = o.source ?? clientAddress;
    this.maxSources = o.maxSources ?? 100_000;
  }

  /** One request of an authenticated client: throws 429 with Retry-After once its bucket is empty. */
  client(id: string): void {
    const wait = this.clients.take(id);
    if (wait > 0) throw new StintError('too_many_requests', `too many requests from this client; retry in ${wait}s`, { retryAfter: wait });
  }

  /** One report (an evaluation, a signal) of a task or service. */
  report(key: string): void {
    const wait = this.reports.take(key);
    if (wait > 0) throw new StintError('too_many_requests', `too many reports from this ${key.split(':')[0]}; retry in ${wait}s`, { retryAfter: wait });
  }

  /**
   * Middleware for the doors anyone can knock on. A 4xx answered to a request in which no
   * client authenticated (`c.get('client')` unset) spends one unit of its address's failure
   * budget; successes and authenticated clients' refusals spend nothing. An address whose
   * budget is spent is refused before its body is read (no parsing, no signature check), unless
   * a client authenticated from it in the last ten minutes: then its requests are still heard
   * (an honest agent behind a NAT shared with a junk sender keeps working) up to a ceiling ten
   * times higher, past which the address is refused unread too.
   */
  failuresBeforeAuthentication(): MiddlewareHandler {
    return async (c, next) => {
      const addr = this.source(c);
      const now = this.now();
      const vouched = (this.vouched.get(addr) ?? 0) > now;
      const wait = Math.max(this.vouchedFailures.wait(addr), vouched ? 0 : this.failures.wait(addr));
      if (wait > 0) return errorResponse(c, new StintError('too_many_requests', `too many failed requests from this address; retry in ${wait}s`, { retryAfter: wait }));
      await next();
      if (c.get('client')) {
        this.vouched.delete(addr);
        this.vouched.set(addr, now + VOUCH_MS);
        if (this.vouched.size > this.maxSources) this.vouched.delete(this.vouched.keys().next().value!);
        return;
      }
      const status = c.res.status;
      if (status >= 400 && status < 500 && status !== 429) {
        this.failures.take(addr);
        this.vouchedFailures.take(addr);
      }
    };
  }
}
