import { Hono } from 'hono';
import { StintError } from '../core/errors.js';
import { limitBody } from './body-limit.js';
import { durableResponses } from './durable.js';
import type { BrokerDeps, BrokerEnv } from './env.js';
import { errorResponse, oauthGroup } from './errors.js';
import { requireOperator } from './auth.js';
import { degrading, noMetrics, observe, operationsRoutes, peerCheck, storeWritableCheck, type ReadinessChecks } from './observability.js';
import { brokerOpenApi } from './openapi.js';
import { standardHeaders } from './headers.js';
import { BrokerLimits, DEFAULT_RATE_LIMIT } from './rate-limit.js';
import { RefusalLog } from './refusal-log.js';
import { introspectRoutes } from './routes/introspect.js';
import { listingRoutes } from './routes/listings.js';
import { managementRoutes } from './routes/management.js';
import { metadataRoutes } from './routes/metadata.js';
import { authzenRoutes } from './routes/authzen.js';
import { bcAuthorizeRoutes } from './routes/bc-authorize.js';
import { eventRoutes } from './routes/events.js';
import { internalRoutes } from './routes/internal.js';
import { revocationRoutes } from './routes/revocations.js';
import { revokeRoutes } from './routes/revoke.js';
import { secretRoutes } from './routes/secrets.js';
import { custodyRoutes } from './routes/custody.js';
import { signalRoutes } from './routes/signals.js';
import { tokenRoutes } from './routes/token.js';

export const DEFAULT_MAX_BODY = 64 * 1024;

/** The broker: agent- and operator-facing. Built from its dependencies, runtime-agnostic. */
export function createBrokerApp(input: BrokerDeps) {
  const clock = () => input.core.clock.now();
  const limits = input.rateLimit === false ? undefined : new BrokerLimits(input.rateLimit ?? DEFAULT_RATE_LIMIT, clock);
  const deps: BrokerDeps = { ...input, limits, refusalLog: input.refusalLog ?? new RefusalLog((r) => input.core.audit.append(r), clock) };
  const app = new Hono<BrokerEnv>();
  const metrics = deps.metrics ?? noMetrics;
  app.use('*', observe({ metrics, log: deps.requestLog }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('*', standardHeaders({ 'X-Content-Type-Options': 'nosniff' }));
  app.use('*', durableResponses(() => deps.core.store));
  if (limits) {
    // Before the body is read: an address that spent its failure budget costs no parsing and no
    // signature check. Authenticated traffic is limited per client and per task in the routes.
    const failures = limits.failuresBeforeAuthentication();
    for (const path of ['/token', '/bc-authorize', '/access/v1/*', '/v1/signals', '/v1/events']) app.use(path, failures);
  }
  app.use('*', limitBody(deps.maxBodyBytes ?? DEFAULT_MAX_BODY));
  app.route(
    '/',
    operationsRoutes({
      metrics,
      authorize: (c) => requireOperator(c as never),
      checks: () => brokerChecks(deps),
      openapi: () => brokerOpenApi(deps.core.issuer),
    }),
  );
  app.route('/', metadataRoutes);
  app.route('/', oauthGroup(tokenRoutes));
  app.route('/', oauthGroup(introspectRoutes));
  app.route('/', oauthGroup(revokeRoutes));
  app.route('/', managementRoutes);
  app.route('/', listingRoutes);
  app.route('/', signalRoutes);
  app.route('/', revocationRoutes);
  app.route('/', eventRoutes);
  app.route('/', secretRoutes);
  app.route('/', custodyRoutes);
  app.route('/', oauthGroup(bcAuthorizeRoutes));
  app.route('/', internalRoutes);
  app.route('/', authzenRoutes);
  app.notFound((c) => errorResponse(c, new StintError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}

/** Store writable, policy loaded, the approval service reachable, and the runtime's own checks. */
function brokerChecks(deps: BrokerDeps): ReadinessChecks {
  const { core } = deps;
  return {
    store: storeWritableCheck(core),
    policy: async () => (Object.keys(core.policy.templates).length > 0 ? { ok: true } : { ok: false, reason: 'no policy templates loaded' }),
    // Only destructive capabilities need the approval service: without it the broker serves
    // everything else (ready, `degraded`) and answers those with 503 and Retry-After.
    ...(deps.approvalUrl ? { approvals: degrading(peerCheck(deps.approvalUrl, deps.peerFetch)) } : {}),
    ...deps.readinessChecks,
  };
}

export type BrokerApp = ReturnType<typeof createBrokerApp>;
