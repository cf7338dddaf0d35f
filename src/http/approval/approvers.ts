import { Hono } from 'hono';
import { registerApprover } from '../../core/approvals/approvers.js';
import { readJson } from '../form.js';
import { approverSchema, parseWith } from '../schemas.js';
import { requireApprovalAdmin } from './auth.js';
import type { ApprovalEnv } from './env.js';

/** The approval admin's API: approvers and their keys. */
export const approverRoutes = new Hono<ApprovalEnv>();

approverRoutes.post('/v1/approvers', requireApprovalAdmin, async (c) => {
  const body = parseWith(approverSchema, await readJson(c), 'invalid_request', '');
  const a = await registerApprover(c.get('deps').core, body);
  return c.json({ approver_id: a.id, name: a.name, groups: a.groups }, 201);
});
