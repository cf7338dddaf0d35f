import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { backlog, type EventHub, type VerifierEvent } from '../core/events.js';
import type { Clock, Store } from '../core/ports.js';

/** How often an idle stream says it is alive, so a verifier can tell silence from an outage. */
export const HEARTBEAT_MS = 5_000;

/**
 * Revocations and stops as server-sent events, in audit order, each with the audit `seq` as its
 * id. With `lastEventId` the stream resumes after that id from the audit log (`0` replays every
 * event); live events published while the backlog is read are held and sent after it, without
 * gaps or repeats. Used by the broker on Node and by the event hub Durable Object on Workers.
 */
export function serveEventStream(c: Context, o: { hub: EventHub; store: Store; clock: Clock; lastEventId?: number; heartbeatMs?: number }) {
  return streamSSE(c, async (stream) => {
    const held: VerifierEvent[] = [];
    let lastSent = o.lastEventId ?? -1;
    let live = false;
    let chain = Promise.resolve();
    const send = (e: VerifierEvent) => {
      if (e.id <= lastSent) return;
      lastSent = e.id;
      chain = chain.then(() => stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) })).catch(() => undefined);
    };
    const unsubscribe = o.hub.subscribe((e) => (live ? send(e) : held.push(e)));
    stream.onAbort(unsubscribe);
    try {
      const head = (await o.store.audit.last())?.seq ?? 0;
      if (o.lastEventId !== undefined) for (const e of await backlog(o.store, o.lastEventId)) send(e);
      else lastSent = head;
      await stream.writeSSE({ event: 'stream.open', data: JSON.stringify({ head }) });
      for (const e of held) send(e);
      live = true;
      while (!stream.aborted) {
        await stream.sleep(o.heartbeatMs ?? HEARTBEAT_MS);
        await chain;
        await stream.writeSSE({ event: 'heartbeat', data: JSON.stringify({ at: o.clock.now() }) });
      }
    } finally {
      unsubscribe();
    }
  });
}

/** `Last-Event-ID` (or `?last_event_id=`), validated; undefined when absent. */
export function lastEventIdOf(c: Context): number | undefined | 'invalid' {
  const raw = c.req.header('Last-Event-ID') ?? c.req.query('last_event_id');
  if (raw === undefined) return undefined;
  return /^\d{1,16}$/.test(raw) ? Number(raw) : 'invalid';
}
