import { Hono } from 'hono';
import { randomId } from '../../core/encoding.js';
import { StintError } from '../../core/errors.js';
import { isPrivateHost } from '../../core/private-address.js';
import { revokeScope } from '../../core/revocation.js';
import { agentScope, allScope, environmentScope } from '../../core/scope.js';
import { agentView } from '../../core/agents.js';
import { releaseAgent } from '../../core/stop.js';
import { operator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { parseWith, receiverSchema, revocationSchema } from '../schemas.js';

/** Operator revocation by scope, SET push receivers, and release of a locked agent. */
export const revocationRoutes = new Hono<BrokerEnv>()
  .post('/v1/revocations', operator, async (c) => {
    const body = parseWith(revocationSchema, await readJson(c), 'invalid_request', '');
    const scope = 'agent' in body ? agentScope(body.agent) : 'environment' in body ? environmentScope(body.environment) : allScope;
    return c.json(await revokeScope(c.get('deps').core, scope, 'operator'));
  })
  .post('/v1/receivers', operator, async (c) => {
    const body = parseWith(receiverSchema, await readJson(c), 'invalid_request', '');
    const { core, allowPrivateReceivers } = c.get('deps');
    if (!allowPrivateReceivers && isPrivateHost(body.endpoint)) {
      throw new StintError('invalid_request', 'endpoint is on this machine or a private network; the broker is not configured to push there');
    }
    const receiver = { id: randomId('rcv_'), endpoint: body.endpoint, audience: body.audience ?? body.endpoint, createdAt: core.clock.now() };
    await core.store.receivers.create(receiver);
    await core.audit.append({ type: 'receiver.registered', actor: 'operator', data: { receiver: receiver.id, endpoint: receiver.endpoint } });
    return c.json({ receiver_id: receiver.id, endpoint: receiver.endpoint, audience: receiver.audience, delivery: 'urn:ietf:rfc:8935' }, 201);
  })
  .post('/v1/agents/:id/release', operator, async (c) => {
    return c.json(agentView(await releaseAgent(c.get('deps').core, c.req.param('id'), 'operator')));
  });
