import { Hono } from 'hono';
import { addApproverJwk, keyView, registerApprover, retireApproverKey } from '../../core/approvals/approvers.js';
import { createEnrolment, relyingParty } from '../../core/approvals/passkeys.js';
import { StintError } from '../../core/errors.js';
import { readJson } from '../form.js';
import { approverKeySchema, approverSchema, parseWith } from '../schemas.js';
import { requireApprovalAdmin } from './auth.js';
import { consoleOrigin, type ApprovalEnv } from './env.js';

/** The approval admin's API: approvers and their keys (rotated or retired, never duplicated). */
export const approverRoutes = new Hono<ApprovalEnv>();
approverRoutes.use('/v1/approvers', requireApprovalAdmin);
approverRoutes.use('/v1/approvers/*', requireApprovalAdmin);

approverRoutes.post('/v1/approvers', async (c) => {
  const body = parseWith(approverSchema, await readJson(c), 'invalid_request', '');
  const a = await registerApprover(c.get('deps').core, body);
  return c.json({ approver_id: a.id, name: a.name, groups: a.groups }, 201);
});

approverRoutes.get('/v1/approvers', async (c) => {
  const { core } = c.get('deps');
  const all = await core.approvals.approvers.list();
  const approvers = await Promise.all(
    all.map(async (a) => ({ approver_id: a.id, name: a.name, groups: a.groups, keys: (await core.approvals.keys.list(a.id)).map(keyView) })),
  );
  return c.json({ approvers });
});

approverRoutes.get('/v1/approvers/:id/keys', async (c) => {
  const { core } = c.get('deps');
  if (!(await core.approvals.approvers.get(c.req.param('id')))) throw new StintError('not_found', 'no such approver');
  return c.json({ keys: (await core.approvals.keys.list(c.req.param('id'))).map(keyView) });
});

/** Rotation: a new JWK, optionally retiring the one it `replaces`. */
approverRoutes.post('/v1/approvers/:id/keys', async (c) => {
  const body = parseWith(approverKeySchema, await readJson(c), 'invalid_request', '');
  const key = await addApproverJwk(c.get('deps').core, c.req.param('id'), body.jwk, body.replaces);
  return c.json(keyView(key), 201);
});

/** Retirement: the key stops authenticating anything at once. */
approverRoutes.delete('/v1/approvers/:id/keys/:kid', async (c) => {
  await retireApproverKey(c.get('deps').core, c.req.param('id'), c.req.param('kid'));
  return c.body(null, 204);
});

/** A one-time link on the console's origin where the approver enrols a passkey. */
approverRoutes.post('/v1/approvers/:id/enrolment', async (c) => {
  const deps = c.get('deps');
  return c.json(await createEnrolment(deps.core, relyingParty(consoleOrigin(deps)), c.req.param('id')), 201);
});
