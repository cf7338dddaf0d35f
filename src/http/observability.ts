// Operations, runtime-neutral: the metrics port, the per-request log line, /healthz, /readyz
// and /metrics. The Prometheus registry lives in an adapter (prom-client on Node), so the
// Workers bundle never imports it; there the no-op implementation answers.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { EventHub } from '../core/events.js';
import { RETRY_AFTER_UNAVAILABLE_S } from './errors.js';
import { routePath } from 'hono/route';
import type { AuditRecord, Store } from '../core/ports.js';
import { randomId } from '../core/encoding.js';

export interface Metrics {
  /** One durable audit record; counters are derived from its type and data. */
  record(r: AuditRecord): void;
  /** One answered request, by route pattern (never the raw path). */
  request(method: string, route: string, status: number, seconds: number): void;
  render(): Promise<{ body: string; contentType: string }>;
}

export const noMetrics: Metrics = {
  record: () => {},
  request: () => {},
  render: async () => ({ body: '# metrics are not collected on this runtime\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
};

/**
 * What a request log line holds: method, route pattern, status, duration and request id.
 * Never the URL's query, a header or a body, so never a token or a secret.
 */
export interface RequestLogLine {
  request_id: string;
  method: string;
  route: string;
  status: number;
  duration_ms: number;
}
export type RequestLogger = (line: RequestLogLine) => void;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;

/** Times every request, counts it, logs one line, and answers with its `X-Request-Id`. */
export function observe(o: { metrics: Metrics; log?: RequestLogger }): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const offered = c.req.header('X-Request-Id');
    const id = offered && REQUEST_ID.test(offered) ? offered : crypto.randomUUID();
    try {
      await next();
    } finally {
      const route = routeOf(c);
      const status = c.res.status;
      const seconds = (performance.now() - started) / 1000;
      try {
        c.res.headers.set('X-Request-Id', id);
      } catch {
        // a proxied Response (Workers: a Durable Object's event stream) has immutable headers
      }
      o.metrics.request(c.req.method, route, status, seconds);
      o.log?.({ request_id: id, method: c.req.method, route, status, duration_ms: Math.round(seconds * 100_000) / 100 });
    }
  };
}

function routeOf(c: Context): string {
  try {
    const r = routePath(c, -1);
    return r === '*' || r === '/*' ? 'unmatched' : r;
  } catch {
    return 'unmatched';
  }
}

export type CheckResult = { ok: true } | { ok: false; reason: string };
/** A check marked `degrades` (a dependency only some requests need) leaves the service ready but degraded. */
export type ReadinessCheck = (() => Promise<CheckResult>) & { degrades?: true };
export type ReadinessChecks = Record<string, ReadinessCheck>;

/** Marks a check whose failure degrades the service rather than making it unready. */
export const degrading = (check: () => Promise<CheckResult>): ReadinessCheck => Object.assign(() => check(), { degrades: true as const });

/**
 * Runs every check (each bounded by `timeoutMs`). Ready when every check passes except those
 * marked `degrades`; `status` is `ok`, `degraded` (ready, with a degrading check failing) or
 * `unavailable` (not ready).
 */
export async function readiness(checks: ReadinessChecks, timeoutMs = 2_000) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<CheckResult>((r) => (timer = setTimeout(() => r({ ok: false, reason: `no answer in ${timeoutMs} ms` }), timeoutMs)));
      try {
        return [name, await Promise.race([check().catch((e: unknown): CheckResult => ({ ok: false, reason: e instanceof Error ? e.message : String(e) })), timeout])] as const;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    }),
  );
  const result = Object.fromEntries(entries.map(([n, r]) => [n, r.ok ? 'ok' : r.reason]));
  const ready = entries.every(([n, r]) => r.ok || checks[n]!.degrades);
  const status = !ready ? 'unavailable' : entries.every(([, r]) => r.ok) ? 'ok' : 'degraded';
  return { ready, status, checks: result };
}

/** A peer service answers its /healthz. */
export const peerCheck = (url: string, doFetch: typeof fetch = fetch) => async (): Promise<CheckResult> => {
  const res = await doFetch(`${url.replace(/\/+$/, '')}/healthz`, { signal: AbortSignal.timeout(1_500) });
  return res.ok ? { ok: true } : { ok: false, reason: `${url} answered ${res.status}` };
};

/**
 * A store accepts a write (one expiring row in the replay table, purged like any other) and can
 * make it durable: a store whose commits cannot be flushed issues nothing, so it is not ready.
 */
export const storeWritableCheck = (core: { store: Store; clock: { now(): number } }) => async (): Promise<CheckResult> => {
  await core.store.replay.consume('readyz', randomId('rdy_'), core.clock.now() + 60_000);
  await core.store.flush();
  return { ok: true };
};

/**
 * The operations routes answer about the service, not from what it wrote: the durable-response
 * wrapper (durable.ts) leaves them alone, so /readyz can say *why* a store cannot flush
 * instead of turning into a bare 503.
 */
export const OPERATIONS_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** /healthz, /readyz and /metrics (the latter behind `authorize`), to mount on a service's app. */
export function operationsRoutes(o: { metrics: Metrics; checks: () => ReadinessChecks; authorize: (c: Context) => Promise<void>; openapi: () => object }) {
  let doc: object | undefined;
  return new Hono()
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/openapi.json', (c) => c.json((doc ??= o.openapi())))
    .get('/readyz', async (c) => {
      const r = await readiness(o.checks());
      return c.json(r, r.ready ? 200 : 503, r.ready ? { 'Cache-Control': 'no-store' } : { 'Cache-Control': 'no-store', 'Retry-After': String(RETRY_AFTER_UNAVAILABLE_S) });
    })
    .get('/metrics', async (c) => {
      await o.authorize(c);
      const { body, contentType } = await o.metrics.render();
      return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    });
}

/** An event hub that also counts every durable audit record. */
export class MeteredEventHub extends EventHub {
  constructor(private readonly metrics: Metrics) {
    super();
  }
  override publish(record: AuditRecord): void {
    try {
      this.metrics.record(record);
    } catch {
      // a metric never costs a decision
    }
    super.publish(record);
  }
}
