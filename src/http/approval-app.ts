import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { StintError } from '../core/errors.js';
import { errorResponse } from './errors.js';
import { DEFAULT_MAX_BODY } from './broker-app.js';

/**
 * The approval service: a separate process with its own key and admin credential. Until the
 * approval path lands, its routes answer 501 in RFC 9457 form.
 */
export function createApprovalApp() {
  const app = new Hono();
  app.use('*', bodyLimit({ maxSize: DEFAULT_MAX_BODY, onError: (c) => errorResponse(c, new StintError('payload_too_large', 'request body too large', { status: 413 })) }));
  app.get('/healthz', (c) => c.json({ ok: true }));
  const notYet = () => {
    throw new StintError('not_implemented', 'the approval service is not enabled in this build');
  };
  app.on(['GET', 'POST'], ['/v1/approvers', '/v1/approvals', '/v1/approvals/:id', '/v1/approvals/:id/decision'], notYet);
  app.notFound((c) => errorResponse(c, new StintError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
