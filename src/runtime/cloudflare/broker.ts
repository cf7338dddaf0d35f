// The broker as a Cloudflare Worker: D1 for storage, noble for sealing, the same core and app.
import { drizzle } from 'drizzle-orm/d1';
import { createNobleSealer } from '../../adapters/sealing/noble.js';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import { createAwsSdkProvider } from '../../adapters/aws/sdk.js';
import { awsProvider } from '../../core/providers/aws/provider.js';
import type { Core } from '../../core/context.js';
import { DAY_MS, DEFAULT_RETENTION } from '../../core/retention.js';
import type { BrokerApp } from '../../http/broker-app.js';
import { createBroker } from '../../service/broker.js';
import type { Service } from '../../service/types.js';
import { compilePolicy } from '../../policy/load.js';
import { decodeKey, required } from './env.js';
import { HUB_NAME } from './event-hub.js';
import { POLICY_SOURCES } from './policies.generated.js';

export interface BrokerWorkerEnv {
  DB: Parameters<typeof drizzle>[0];
  STINT_ISSUER: string;
  STINT_ADMIN_TOKEN: string;
  /** 32 bytes, base64. */
  STINT_MASTER_KEY: string;
  STINT_APPROVAL_URL?: string;
  /** Service binding to the approval Worker (preferred over public HTTP). */
  APPROVALS?: { fetch: typeof fetch };
  STINT_AWS_ENDPOINT?: string;
  STINT_AWS_IAM_ENDPOINT?: string;
  STINT_AWS_REGION?: string;
  /** Retention ages in whole days (0: for ever); default 30 and 365 (core/retention.ts). */
  STINT_TASK_RETENTION_DAYS?: string;
  STINT_AUDIT_RETENTION_DAYS?: string;
  /** The event hub Durable Object namespace. */
  EVENTS?: { idFromName(name: string): unknown; get(id: unknown): { fetch: typeof fetch } };
}

// Events raised while answering a request, on their way to the hub (kept alive by waitUntil).
const pendingPublishes: Promise<unknown>[] = [];

const policy = compilePolicy(POLICY_SOURCES);

// One service per isolate, built on the first request (bindings exist only then).
let service: Promise<Service<Core, BrokerApp>> | undefined;
function serviceFor(env: BrokerWorkerEnv) {
  return (service ??= (async () => {
    required(env, ['STINT_ISSUER', 'STINT_ADMIN_TOKEN', 'STINT_MASTER_KEY']);
    const track = (p: Promise<unknown>) => void pendingPublishes.push(p);
    const viaBinding = env.APPROVALS ? ((input: RequestInfo | URL, init?: RequestInit) => env.APPROVALS!.fetch(input, init)) : undefined;
    let eventStream: ((last: number | undefined, client: string, environment?: string) => Promise<Response>) | undefined;
    const ns = env.EVENTS;
    // A Durable Object stub belongs to the request that made it: one per use.
    const hub = ns && (() => ns.get(ns.idFromName(HUB_NAME)));
    // The client (authenticated here) travels with the request: the hub counts its streams; a
    // resource service's environment too: the hub sends it only the events that concern it.
    if (hub) {
      eventStream = (last, client, environment) =>
        hub().fetch(`https://hub/subscribe?${new URLSearchParams({ client, ...(last === undefined ? {} : { last_event_id: String(last) }), ...(environment === undefined ? {} : { environment }) })}`);
    }
    const broker = await createBroker({
      issuer: env.STINT_ISSUER,
      store: createSqliteStore(drizzle(env.DB, { schema }) as unknown as SqliteDb),
      sealer: createNobleSealer(decodeKey(env.STINT_MASTER_KEY, 'STINT_MASTER_KEY')),
      policy,
      adminToken: env.STINT_ADMIN_TOKEN,
      approval: env.STINT_APPROVAL_URL ? { url: env.STINT_APPROVAL_URL, fetch: viaBinding as typeof fetch | undefined } : undefined,
      // AWS on Workers: root credentials must come from the vault (there is no SDK chain here).
      providers: [awsProvider(createAwsSdkProvider({ stsEndpoint: env.STINT_AWS_ENDPOINT, iamEndpoint: env.STINT_AWS_IAM_ENDPOINT, region: env.STINT_AWS_REGION }))],
      setPush: { attempts: 2, retryMs: 200 },
      retention: { tasksMs: days(env.STINT_TASK_RETENTION_DAYS, DEFAULT_RETENTION.tasksMs), auditMs: days(env.STINT_AUDIT_RETENTION_DAYS, DEFAULT_RETENTION.auditMs) },
      track,
      http: { eventStream },
    });
    if (hub) broker.core.events.subscribe((e) => track(hub().fetch('https://hub/publish', { method: 'POST', body: JSON.stringify([e]) }).catch(() => undefined)));
    broker.start();
    return broker;
  })().catch((e) => {
    service = undefined;
    throw e;
  }));
}

/** A retention age from a var: whole days, anything else refuses to start (fail closed on a typo). */
function days(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,5}$/.test(raw.trim())) throw new Error(`a retention age must be a whole number of days, got "${raw}"`);
  return Number(raw.trim()) * DAY_MS;
}

const track = (p: Promise<unknown> | undefined) => void (p && pendingPublishes.push(p));

/** Work started while answering, kept alive past the answer. */
function settle(ctx?: { waitUntil(p: Promise<unknown>): void }) {
  if (!pendingPublishes.length) return;
  const all = Promise.allSettled(pendingPublishes.splice(0));
  if (ctx) ctx.waitUntil(all);
  else return all;
}


export { EventHubObject } from './event-hub.js';

export default {
  async fetch(request: Request, env: BrokerWorkerEnv, ctx?: { waitUntil(p: Promise<unknown>): void }): Promise<Response> {
    const broker = await serviceFor(env);
    const response = await broker.app.fetch(request);
    // Aggregates whose interval has ended are written after the answer, kept alive by waitUntil:
    // a timer in an isolate may never fire, and the isolate may be gone before the next request.
    track(broker.flushDue?.().catch(() => undefined));
    await settle(ctx);
    return response;
  },
  /** The Cron Trigger: housekeeping (expired replay and revocation rows in D1). */
  async scheduled(_controller: unknown, env: BrokerWorkerEnv, ctx?: { waitUntil(p: Promise<unknown>): void }): Promise<void> {
    const broker = await serviceFor(env);
    while ((await broker.maintenance()) > 0);
    await settle(ctx);
  },
};
