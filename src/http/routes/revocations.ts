import { Hono } from 'hono';
import { revokeScope } from '../../core/revocation.js';
import { agentView } from '../../core/agents.js';
import { releaseAgent } from '../../core/stop.js';
import { requireOperator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { parseWith, revocationSchema } from '../schemas.js';

/** Operator revocation by scope, and release of a locked agent. */
export const revocationRoutes = new Hono<BrokerEnv>()
  .post('/v1/revocations', async (c) => {
    await requireOperator(c);
    const scope = parseWith(revocationSchema, await readJson(c), 'invalid_request', '');
    return c.json(await revokeScope(c.get('deps').core, scope, 'operator'));
  })
  .post('/v1/agents/:id/release', async (c) => {
    await requireOperator(c);
    return c.json(agentView(await releaseAgent(c.get('deps').core, c.req.param('id'), 'operator')));
  });
