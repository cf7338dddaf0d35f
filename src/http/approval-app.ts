import { Hono, type Context } from 'hono';
import { authenticateApprover, isBrokerToken, registerApprover } from '../core/approvals/approvers.js';
import { decide, view } from '../core/approvals/decide.js';
import { openApproval } from '../core/approvals/open.js';
import { pollApproval } from '../core/approvals/poll.js';
import type { ApprovalCore } from '../core/approvals/types.js';
import { voidApprovals } from '../core/approvals/void.js';
import { randomId, timingSafeEqual } from '../core/encoding.js';
import { noMetrics, observe, operationsRoutes, peerCheck, storeWritableCheck, type Metrics, type RequestLogger } from './observability.js';
import { StintError } from '../core/errors.js';
import { signInternal, verifyInternal } from '../core/internal.js';
import { limitBody } from './body-limit.js';
import { approvalOpenApi } from './openapi.js';
import { durableResponses } from './durable.js';
import { DEFAULT_MAX_BODY } from './broker-app.js';
import { errorResponse } from './errors.js';
import { standardHeaders } from './headers.js';
import { readJson } from './form.js';
import { approverSchema, decisionSchema, internalCallSchema, parseWith } from './schemas.js';

export interface ApprovalDeps {
  core: ApprovalCore;
  /** Bearer for registering approvers (STINT_APPROVAL_ADMIN_TOKEN). */
  adminToken: string;
  /** Where the broker is, to report agent credentials presented here. */
  brokerUrl: string;
  fetch?: typeof fetch;
  /** Prometheus counters and latency histograms (default: none collected). */
  metrics?: Metrics;
  /** One JSON line per request. */
  requestLog?: RequestLogger;
}

/**
 * The approval service: a separate process with its own key (the approval authority), its own
 * admin credential and its own database. Approvers authenticate every call with their own
 * key; no agent or operator credential is accepted, and an agent credential presented here
 * stops that agent's task.
 */
export function createApprovalApp(deps: ApprovalDeps) {
  const { core } = deps;
  const app = new Hono();
  const metrics = deps.metrics ?? noMetrics;
  app.use('*', observe({ metrics, log: deps.requestLog }));
  app.use('*', standardHeaders({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' }));
  app.use('*', durableResponses(() => core.store));
  app.use('*', limitBody(DEFAULT_MAX_BODY));

  const requireAdmin = async (c: Context) => {
    const auth = c.req.header('Authorization') ?? '';
    if (!/^bearer /i.test(auth) || !(await timingSafeEqual(auth.slice(7).trim(), deps.adminToken))) {
      throw new StintError('unauthorized', 'approval admin credential required (Bearer STINT_APPROVAL_ADMIN_TOKEN)');
    }
  };
  app.route(
    '/',
    operationsRoutes({
      metrics,
      authorize: requireAdmin,
      checks: () => ({
        store: storeWritableCheck(() => core.store.replay.consume('readyz', randomId('rdy_'), core.clock.now() + 60_000)),
        policy: async () => (Object.keys(core.policy.templates).length > 0 ? { ok: true } : { ok: false, reason: 'no policy templates loaded' }),
        broker: peerCheck(deps.brokerUrl, deps.fetch),
      }),
      openapi: () => approvalOpenApi(core.selfUrl),
    }),
  );
  app.get('/.well-known/jwks.json', (c) => c.json({ keys: core.keys.publicJwks() }));

  /** Refuses agent credentials loudly: the broker stops the task whose token it is. */
  const approver = async (c: Context) => {
    const auth = c.req.header('Authorization') ?? '';
    const presented = /^(bearer|dpop) /i.test(auth) ? auth.replace(/^\S+\s+/, '').trim() : '';
    if (presented && (await isBrokerToken(core, presented))) {
      await reportAgentCredential(deps, presented);
      throw new StintError('forbidden', 'agent credentials are not accepted by the approval service; the task that presented one has been stopped');
    }
    return authenticateApprover(core, auth);
  };

  app.post('/v1/approvers', async (c) => {
    await requireAdmin(c);
    const body = parseWith(approverSchema, await readJson(c), 'invalid_request', '');
    const a = await registerApprover(core, body);
    return c.json({ approver_id: a.id, name: a.name, groups: a.groups }, 201);
  });

  app.get('/v1/approvals', async (c) => {
    await approver(c);
    const status = c.req.query('status') ?? 'pending';
    if (!['pending', 'approved', 'denied', 'expired', 'voided', 'delivered'].includes(status)) throw new StintError('invalid_request', 'unknown status');
    const rows = await core.approvals.requests.list(status as 'pending', 500);
    return c.json({ approvals: await Promise.all(rows.map((r) => view(core, r.id))) });
  });

  app.get('/v1/approvals/:id', async (c) => {
    await approver(c);
    return c.json(await view(core, c.req.param('id')));
  });

  app.post('/v1/approvals/:id/decision', async (c) => {
    const who = await approver(c);
    const { decision_jws } = parseWith(decisionSchema, await readJson(c), 'invalid_request', '');
    return c.json(await decide(core, who, c.req.param('id'), decision_jws));
  });

  app.post('/internal/broker', async (c) => {
    const body = await verifyInternal(await c.req.text(), core.brokerKey, { issuer: core.issuer, audience: core.selfUrl, now: core.clock.now(), replay: core.store.replay });
    const call = parseWith(internalCallSchema, body, 'invalid_request', '');
    if (call.op === 'open') return c.json(await openApproval(core, call.client_id, call.request));
    if (call.op === 'poll') return c.json(await pollApproval(core, call.auth_req_id, call.client_id, call.jkt));
    return c.json({ voided: await voidApprovals(core, call.scope, call.reason) });
  });

  app.notFound((c) => errorResponse(c, new StintError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}

async function reportAgentCredential(deps: ApprovalDeps, token: string) {
  const { core } = deps;
  const jwt = await signInternal(core.keys, core.selfUrl, core.issuer, { op: 'agent_credential', token }, core.clock.now());
  try {
    await (deps.fetch ?? fetch)(`${deps.brokerUrl.replace(/\/+$/, '')}/internal/approval`, { method: 'POST', headers: { 'Content-Type': 'application/jwt' }, body: jwt, signal: AbortSignal.timeout(5_000) });
  } catch {
    // The refusal stands; the broker will hear of it when it is back.
  }
  await core.audit.append({ type: 'approval.agent_credential_refused', actor: 'approval-service', data: {} }).catch(() => undefined);
}
