import { Hono } from 'hono';
import { listAgents, listTasks } from '../../core/listings.js';
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
  });
