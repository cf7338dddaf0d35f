import { Hono } from 'hono';
import { addWebhook, removeWebhook } from '../../core/approvals/notify.js';
import { readJson } from '../form.js';
import { parseWith, webhookSchema } from '../schemas.js';
import { requireApprovalAdmin } from './auth.js';
import type { ApprovalEnv } from './env.js';

/** Where new requests are announced (signed notices); the approval admin's to manage. */
export const webhookRoutes = new Hono<ApprovalEnv>();
webhookRoutes.use('/v1/webhooks', requireApprovalAdmin);
webhookRoutes.use('/v1/webhooks/*', requireApprovalAdmin);

const view = (w: { id: string; url: string; createdAt: number }) => ({ id: w.id, url: w.url, created_at: new Date(w.createdAt).toISOString() });

webhookRoutes.post('/v1/webhooks', async (c) => {
  const { url } = parseWith(webhookSchema, await readJson(c), 'invalid_request', '');
  const deps = c.get('deps');
  return c.json(view(await addWebhook(deps.core, url, { allowPrivate: deps.allowPrivateReceivers })), 201);
});

webhookRoutes.get('/v1/webhooks', async (c) => c.json({ webhooks: (await c.get('deps').core.approvals.webhooks.list()).map(view) }));

webhookRoutes.delete('/v1/webhooks/:id', async (c) => {
  await removeWebhook(c.get('deps').core, c.req.param('id'));
  return c.body(null, 204);
});
