import { Hono } from 'hono';
import { notifyRequested } from '../../core/approvals/notify.js';
import { findOpenApproval } from '../../core/approvals/find.js';
import { openApproval } from '../../core/approvals/open.js';
import { pollApproval } from '../../core/approvals/poll.js';
import { voidApprovals } from '../../core/approvals/void.js';
import { verifyInternal } from '../../core/internal.js';
import { internalCallSchema, parseWith } from '../schemas.js';
import { consoleOrigin, type ApprovalEnv } from './env.js';

/** The broker's calls, signed by its key: find (an open request for the same action), open, poll, void. */
export const internalRoutes = new Hono<ApprovalEnv>();

internalRoutes.post('/internal/broker', async (c) => {
  const { core } = c.get('deps');
  const body = await verifyInternal(await c.req.text(), core.brokerKey, { issuer: core.issuer, audience: core.selfUrl, now: core.clock.now(), replay: core.store.replay });
  const call = parseWith(internalCallSchema, body, 'invalid_request', '');
  if (call.op === 'open') {
    const opened = await openApproval(core, call.client_id, call.request);
    // Approvers hear of it at once; the agent's answer does not wait for the webhooks.
    const deps = c.get('deps');
    const notice = notifyRequested(core, consoleOrigin(deps), opened.auth_req_id, deps.webhookFetch, { allowPrivate: deps.allowPrivateReceivers }).catch(() => undefined);
    try {
      c.executionCtx.waitUntil(notice);
    } catch {
      // Node: no execution context; the promise runs on by itself.
    }
    return c.json(opened);
  }
  if (call.op === 'find') return c.json({ open: (await findOpenApproval(core, call.client_id, call.action, call.candidates)) ?? null });
  if (call.op === 'poll') return c.json(await pollApproval(core, call.auth_req_id, call.client_id, call.jkt));
  return c.json({ voided: await voidApprovals(core, call.scope, call.reason) });
});
