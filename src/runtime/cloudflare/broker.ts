// The broker as a Cloudflare Worker: D1 for storage, noble for sealing, the same core and app.
import { drizzle } from 'drizzle-orm/d1';
import { createApprovalGateway } from '../../adapters/approval-gateway.js';
import { createNobleSealer } from '../../adapters/sealing/noble.js';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import { startApprovalVoiding } from '../../core/approval-voiding.js';
import { createAwsSdkProvider } from '../../adapters/aws/sdk.js';
import { startAwsRevocation } from '../../core/aws.js';
import { createCore } from '../../core/create.js';
import { startSetPush } from '../../core/set.js';
import { createBrokerApp } from '../../http/broker-app.js';
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
  /** The event hub Durable Object namespace. */
  EVENTS?: { idFromName(name: string): unknown; get(id: unknown): { fetch: typeof fetch } };
}

// Events raised while answering a request, on their way to the hub (kept alive by waitUntil).
const pendingPublishes: Promise<unknown>[] = [];

const policy = compilePolicy(POLICY_SOURCES);

// One core per isolate, built on the first request (bindings exist only then).
let app: Promise<ReturnType<typeof createBrokerApp>> | undefined;
function appFor(env: BrokerWorkerEnv) {
  return (app ??= (async () => {
    required(env, ['STINT_ISSUER', 'STINT_ADMIN_TOKEN', 'STINT_MASTER_KEY']);
    const store = createSqliteStore(drizzle(env.DB, { schema }) as unknown as SqliteDb);
    const core = await createCore({ issuer: env.STINT_ISSUER, store, sealer: createNobleSealer(decodeKey(env.STINT_MASTER_KEY, 'STINT_MASTER_KEY')), policy });
    const approvalUrl = env.STINT_APPROVAL_URL?.replace(/\/+$/, '');
    const viaBinding = env.APPROVALS ? ((input: RequestInfo | URL, init?: RequestInit) => env.APPROVALS!.fetch(input, init)) : undefined;
    if (approvalUrl) core.approvals = createApprovalGateway({ url: approvalUrl, issuer: core.issuer, keys: core.keys, clock: core.clock, fetch: viaBinding as typeof fetch | undefined });
    const track = (p: Promise<unknown>) => void pendingPublishes.push(p);
    startApprovalVoiding(core, console.error, track);
    startSetPush(core, { track, attempts: 2, retryMs: 200 });
    // AWS on Workers: root credentials must come from the vault (there is no SDK chain here).
    core.aws = createAwsSdkProvider({ stsEndpoint: env.STINT_AWS_ENDPOINT, iamEndpoint: env.STINT_AWS_IAM_ENDPOINT, region: env.STINT_AWS_REGION });
    startAwsRevocation(core, console.error, track);
    let eventStream: ((last: number | undefined) => Promise<Response>) | undefined;
    const ns = env.EVENTS;
    if (ns) {
      // A Durable Object stub belongs to the request that made it: one per use.
      const hub = () => ns.get(ns.idFromName(HUB_NAME));
      core.events.subscribe((e) => pendingPublishes.push(hub().fetch('https://hub/publish', { method: 'POST', body: JSON.stringify([e]) }).catch(() => undefined)));
      eventStream = (last) => hub().fetch(`https://hub/subscribe${last === undefined ? '' : `?last_event_id=${last}`}`);
    }
    return createBrokerApp({ core, adminToken: env.STINT_ADMIN_TOKEN, approvalUrl, eventStream });
  })().catch((e) => {
    app = undefined;
    throw e;
  }));
}


export { EventHubObject } from './event-hub.js';

export default {
  async fetch(request: Request, env: BrokerWorkerEnv, ctx?: { waitUntil(p: Promise<unknown>): void }): Promise<Response> {
    const response = await (await appFor(env)).fetch(request);
    if (pendingPublishes.length) {
      const all = Promise.allSettled(pendingPublishes.splice(0));
      if (ctx) ctx.waitUntil(all);
      else await all;
    }
    return response;
  },
};
