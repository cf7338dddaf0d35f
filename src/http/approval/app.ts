import { Hono } from 'hono';
import { StintError } from '../../core/errors.js';
import { limitBody } from '../body-limit.js';
import { DEFAULT_MAX_BODY } from '../broker-app.js';
import { durableResponses } from '../durable.js';
import { errorResponse } from '../errors.js';
import { standardHeaders } from '../headers.js';
import { assertApprovalAdmin } from './auth.js';
import { noMetrics, observe, operationsRoutes, peerCheck, storeWritableCheck } from '../observability.js';
import { approvalOpenApi } from '../openapi.js';
import { DEFAULT_RATE_LIMIT, rateLimit } from '../rate-limit.js';
import { approvalRoutes } from './approvals.js';
import { approverRoutes } from './approvers.js';
import type { ApprovalDeps, ApprovalEnv } from './env.js';
import { internalRoutes } from './internal.js';
import { consoleRoutes } from './console/routes.js';
import { webhookRoutes } from './webhooks.js';

export type { ApprovalDeps, ApprovalEnv } from './env.js';

/**
 * The approval service: a separate process with its own key (the approval authority), its own
 * admin credential and its own database. Approvers authenticate every call with their own
 * key; no agent or operator credential is accepted, and an agent credential presented here
 * stops that agent's task.
 *
 * Route table (who may call what):
 * - anyone: GET /healthz, GET /readyz, GET /openapi.json, GET /.well-known/jwks.json
 * - approval admin (bearer): GET /metrics
 * - approval admin (bearer): /v1/approvers…            (approvers.ts)
 * - approvers (request JWT): /v1/approvals…            (approvals.ts)
 * - approval admin (bearer): /v1/webhooks…             (webhooks.ts)
 * - the broker (signed internal call): /internal/broker (internal.ts)
 * - approvers in a browser (passkey, session cookie): /, /requests/:id, /keys, /enrol/:token, /console/… (console/)
 */
export function createApprovalApp(deps: ApprovalDeps) {
  const { core } = deps;
  const app = new Hono<ApprovalEnv>();
  const metrics = deps.metrics ?? noMetrics;
  app.use('*', observe({ metrics, log: deps.requestLog }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('*', standardHeaders({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' }));
  app.use('*', durableResponses(() => core.store));
  if (deps.rateLimit !== false) {
    const limited = rateLimit(deps.rateLimit ?? DEFAULT_RATE_LIMIT, () => core.clock.now());
    app.use('*', (c, next) => (c.req.path === '/internal/broker' || c.req.path === '/healthz' ? next() : limited(c, next)));
  }
  app.use('*', limitBody(DEFAULT_MAX_BODY));

  app.route(
    '/',
    operationsRoutes({
      metrics,
      authorize: (c) => assertApprovalAdmin(deps, c.req.header('Authorization')),
      checks: () => ({
        store: storeWritableCheck(core),
        policy: async () => (Object.keys(core.policy.templates).length > 0 ? { ok: true } : { ok: false, reason: 'no policy templates loaded' }),
        broker: peerCheck(deps.brokerUrl, deps.fetch),
      }),
      openapi: () => approvalOpenApi(core.selfUrl),
    }),
  );
  app.get('/.well-known/jwks.json', (c) => c.json({ keys: core.keys.publicJwks() }));
  app.route('/', approverRoutes);
  app.route('/', approvalRoutes);
  app.route('/', webhookRoutes);
  app.route('/', internalRoutes);
  app.route('/', consoleRoutes);

  app.notFound((c) => errorResponse(c, new StintError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
