import { Hono } from 'hono';
import { StintError } from '../../core/errors.js';
import { verifyInternal } from '../../core/internal.js';
import { lockAgent, stopTask } from '../../core/stop.js';
import { currentTask } from '../../core/token-state.js';
import { verifyStintToken } from '../../core/verify-token.js';
import type { BrokerEnv } from '../env.js';

/**
 * Calls from the approval service, signed by the approval authority's key. Today one: an
 * agent credential was presented to the approval service, which is a stop event.
 */
export const internalRoutes = new Hono<BrokerEnv>().post('/internal/approval', async (c) => {
  const { core, approvalUrl } = c.get('deps');
  if (!core.approvals || !approvalUrl) throw new StintError('not_found', 'no approval service is configured');
  const body = await verifyInternal(await c.req.text(), (kid) => core.approvals!.key(kid), { issuer: approvalUrl, audience: core.issuer, now: core.clock.now(), replay: core.store.replay });
  if (body.op !== 'agent_credential' || typeof body.token !== 'string') throw new StintError('invalid_request', 'unknown internal call');
  const claims = await verifyStintToken(core, body.token, { allowExpired: true }).catch(() => undefined);
  if (!claims) return c.json({ stopped: null }, 202);
  const task = await currentTask(core, claims.task_id);
  const why = `presented an agent credential to the approval service (task ${claims.task_id})`;
  if (task?.status === 'active') await stopTask(core, task, 'substitution', why, { actor: 'approval-service', lockAgent: false });
  await lockAgent(core, claims.sub, why, 'approval-service');
  return c.json({ stopped: claims.task_id }, 202);
});
