import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { StintError } from '../../core/errors.js';
import { backlog, type VerifierEvent } from '../../core/events.js';
import { basicResource, isOperator } from '../auth.js';
import type { BrokerEnv } from '../env.js';

/** How often an idle stream says it is alive, so a verifier can tell silence from an outage. */
export const HEARTBEAT_MS = 5_000;

/**
 * GET /v1/events: revocations and stops as server-sent events, in audit order, each with the
 * audit `seq` as its id. `Last-Event-ID` (or `?last_event_id=`) resumes after that id from the
 * audit log; `0` replays every event. Live events published while the backlog is read are held
 * and sent after it, without gaps or repeats.
 */
export const eventRoutes = new Hono<BrokerEnv>().get('/v1/events', async (c) => {
  if (!(await isOperator(c)) && !(await basicResource(c))) {
    throw new StintError('unauthorized', 'events are for resource services (HTTP Basic) and the operator');
  }
  const raw = c.req.header('Last-Event-ID') ?? c.req.query('last_event_id');
  if (raw !== undefined && !/^\d{1,16}$/.test(raw)) throw new StintError('invalid_request', 'Last-Event-ID must be an event id');
  const { core } = c.get('deps');
  const heartbeatMs = c.get('deps').heartbeatMs ?? HEARTBEAT_MS;

  return streamSSE(c, async (stream) => {
    const held: VerifierEvent[] = [];
    let lastSent = raw === undefined ? -1 : Number(raw);
    let live = false;
    let chain = Promise.resolve();
    const send = (e: VerifierEvent) => {
      if (e.id <= lastSent) return;
      lastSent = e.id;
      chain = chain.then(() => stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) })).catch(() => undefined);
    };
    const unsubscribe = core.events.subscribe((e) => (live ? send(e) : held.push(e)));
    stream.onAbort(unsubscribe);
    try {
      const head = (await core.store.audit.last())?.seq ?? 0;
      if (raw !== undefined) for (const e of await backlog(core.store, Number(raw))) send(e);
      else lastSent = head;
      await stream.writeSSE({ event: 'stream.open', data: JSON.stringify({ head }) });
      for (const e of held) send(e);
      live = true;
      while (!stream.aborted) {
        await stream.sleep(heartbeatMs);
        await chain;
        await stream.writeSSE({ event: 'heartbeat', data: JSON.stringify({ at: core.clock.now() }) });
      }
    } finally {
      unsubscribe();
    }
  });
});
