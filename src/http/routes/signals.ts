import { Hono } from 'hono';
import { reportSignal, type SignalCaller } from '../../core/signals.js';
import { basicResource, dpopBoundToken, isOperator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readJson } from '../form.js';
import { parseWith, signalSchema } from '../schemas.js';

/**
 * Signals from resource services (HTTP Basic), the operator (Bearer) or an agent's harness
 * (its DPoP-bound task token). Substitution and environment mismatch may stop a task.
 */
export const signalRoutes = new Hono<BrokerEnv>().post('/v1/signals', async (c) => {
  const { core } = c.get('deps');
  let caller: SignalCaller;
  if (await isOperator(c)) caller = { kind: 'operator' };
  else {
    const resource = await basicResource(c);
    caller = resource ? { kind: 'resource', resource } : { kind: 'agent', claims: await dpopBoundToken(c) };
    // Reports append to the log: limited per reporting service and per task (issue 21 item 7).
    c.set('client', caller.kind === 'resource' ? caller.resource.id : caller.claims.sub);
    c.get('deps').limits?.report(caller.kind === 'resource' ? `service:${caller.resource.id}` : `task:${caller.claims.task_id}`);
  }
  const signal = parseWith(signalSchema, await readJson(c), 'invalid_request', '');
  return c.json(await reportSignal(core, caller, signal), 202);
});
