import { Hono } from 'hono';
import { decide, view } from '../../core/approvals/decide.js';
import type { ApprovalStatus } from '../../core/approvals/types.js';
import { StintError } from '../../core/errors.js';
import { readJson } from '../form.js';
import { decisionSchema, parseWith } from '../schemas.js';
import { requireApprover } from './auth.js';
import type { ApprovalEnv } from './env.js';

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'voided', 'delivered'];
const isStatus = (s: string): s is ApprovalStatus => (STATUSES as readonly string[]).includes(s);

/** What approvers call with their request JWTs. */
export const approvalRoutes = new Hono<ApprovalEnv>();

approvalRoutes.get('/v1/approvals', requireApprover, async (c) => {
  const { core } = c.get('deps');
  const status = c.req.query('status') ?? 'pending';
  if (!isStatus(status)) throw new StintError('invalid_request', 'unknown status');
  const rows = await core.approvals.requests.list(status, 500);
  return c.json({ approvals: await Promise.all(rows.map((r) => view(core, r.id))) });
});

approvalRoutes.get('/v1/approvals/:id', requireApprover, async (c) => c.json(await view(c.get('deps').core, c.req.param('id'))));

approvalRoutes.post('/v1/approvals/:id/decision', requireApprover, async (c) => {
  const { decision_jws } = parseWith(decisionSchema, await readJson(c), 'invalid_request', '');
  return c.json(await decide(c.get('deps').core, c.get('approver'), c.req.param('id'), decision_jws));
});
