import { Hono } from 'hono';
import { agentDetail, listAgents, listTasks } from '../../core/listings.js';
import { StintError } from '../../core/errors.js';
import { operator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { agentListQuerySchema, parseWith, taskListQuerySchema } from '../schemas.js';

/** The operator's listings (RFC 9457 problems on error): newest first, `next_cursor` pages. */
export const listingRoutes = new Hono<BrokerEnv>()
  .get('/v1/tasks', operator, async (c) => {
    const q = parseWith(taskListQuerySchema, c.req.query(), 'invalid_request', '');
    return c.json(await listTasks(c.get('deps').core, q));
  })
  .get('/v1/agents', operator, async (c) => {
    const q = parseWith(agentListQuerySchema, c.req.query(), 'invalid_request', '');
    return c.json(await listAgents(c.get('deps').core, q));
  })
  .get('/v1/agents/:id', operator, async (c) => {
    const { core } = c.get('deps');
    const agent = await core.store.agents.get(c.req.param('id'));
    if (!agent) throw new StintError('not_found', 'no such agent');
    return c.json(await agentDetail(core, agent));
  });
