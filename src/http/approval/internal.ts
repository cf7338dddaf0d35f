import { Hono } from 'hono';
import { openApproval } from '../../core/approvals/open.js';
import { pollApproval } from '../../core/approvals/poll.js';
import { voidApprovals } from '../../core/approvals/void.js';
import { verifyInternal } from '../../core/internal.js';
import { internalCallSchema, parseWith } from '../schemas.js';
import type { ApprovalEnv } from './env.js';

/** The broker's calls, signed by its key: open, poll, void. */
export const internalRoutes = new Hono<ApprovalEnv>();

internalRoutes.post('/internal/broker', async (c) => {
  const { core } = c.get('deps');
  const body = await verifyInternal(await c.req.text(), core.brokerKey, { issuer: core.issuer, audience: core.selfUrl, now: core.clock.now(), replay: core.store.replay });
  const call = parseWith(internalCallSchema, body, 'invalid_request', '');
  if (call.op === 'open') return c.json(await openApproval(core, call.client_id, call.request));
  if (call.op === 'poll') return c.json(await pollApproval(core, call.auth_req_id, call.client_id, call.jkt));
  return c.json({ voided: await voidApprovals(core, call.scope, call.reason) });
});
