import { Hono } from 'hono';
import { StintError } from '../../core/errors.js';
import { basicResource, isOperator } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { lastEventIdOf, serveEventStream } from '../event-stream.js';

export { HEARTBEAT_MS } from '../event-stream.js';

/**
 * GET /v1/events for resource services (HTTP Basic) and the operator. Where the runtime has a
 * shared hub (Workers: a Durable Object), the stream is served there, so that an event raised in
 * any isolate reaches every subscriber; otherwise from this process's hub.
 */
export const eventRoutes = new Hono<BrokerEnv>().get('/v1/events', async (c) => {
  if (!(await isOperator(c)) && !(await basicResource(c))) {
    throw new StintError('unauthorized', 'events are for resource services (HTTP Basic) and the operator');
  }
  const last = lastEventIdOf(c);
  if (last === 'invalid') throw new StintError('invalid_request', 'Last-Event-ID must be an event id');
  const deps = c.get('deps');
  if (deps.eventStream) return deps.eventStream(last);
  return serveEventStream(c, { hub: deps.core.events, store: deps.core.store, clock: deps.core.clock, lastEventId: last, heartbeatMs: deps.heartbeatMs });
});
