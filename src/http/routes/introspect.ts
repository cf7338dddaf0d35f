import { Hono } from 'hono';
import { StintError } from '../../core/errors.js';
import { introspect, type IntrospectionCaller } from '../../core/introspect.js';
import { basicResource, isOperator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readForm } from '../form.js';

/** RFC 7662: for the operator (bearer) or a registered resource service (HTTP Basic). */
export const introspectRoutes = new Hono<BrokerEnv>().post('/introspect', async (c) => {
  let caller: IntrospectionCaller;
  if (await isOperator(c)) caller = { kind: 'operator' };
  else {
    const resource = await basicResource(c);
    if (!resource) throw new StintError('invalid_client', 'introspection needs a resource service (HTTP Basic) or the operator (Bearer)');
    caller = { kind: 'resource', audience: resource.audience };
  }
  const form = await readForm(c);
  const token = form.get('token');
  if (!token) throw new StintError('invalid_request', 'token is required');
  if (token.length > 16_384) return c.json({ active: false }, 200, { 'Cache-Control': 'no-store' });
  return c.json(await introspect(c.get('deps').core, token, caller), 200, { 'Cache-Control': 'no-store' });
});
