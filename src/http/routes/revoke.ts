import { Hono } from 'hono';
import { StintError } from '../../core/errors.js';
import { revokeToken, type RevocationCaller } from '../../core/revoke.js';
import { agentFromForm, isOperator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readForm } from '../form.js';

/** RFC 7009: an agent revokes its own tokens (private_key_jwt); the operator revokes any. */
export const revokeRoutes = new Hono<BrokerEnv>().post('/revoke', async (c) => {
  const form = await readForm(c);
  const caller: RevocationCaller = (await isOperator(c)) ? { kind: 'operator' } : { kind: 'agent', agentId: (await agentFromForm(c, form)).id };
  const token = form.get('token');
  if (!token) throw new StintError('invalid_request', 'token is required');
  const hint = form.get('token_type_hint');
  if (hint !== undefined && hint !== 'access_token') {
    throw new StintError('unsupported_token_type', 'only access tokens are issued here');
  }
  await revokeToken(c.get('deps').core, token, caller);
  return c.body(null, 200, { 'Cache-Control': 'no-store' });
});
