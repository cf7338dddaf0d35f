import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { backlogPages, type EventFanout, type VerifierEvent } from '../core/events.js';
import type { Clock, Store } from '../core/ports.js';
import { nextTurn } from './stream-admission.js';

const laterTurn = (): Promise<void> => new Promise((r) => nextTurn(r));

/** How often an idle stream says it is alive, so a verifier can tell silence from an outage. */
export const HEARTBEAT_MS = 5_000;
/** Audit records read per page while a stream catches up. */
export const BACKLOG_PAGE = 500;

/**
 * Revocations and stops as server-sent events, in audit order, each with the audit `seq` as its
 * id, with no gaps and no repeats. With `lastEventId` the stream resumes after that id from the
 * audit log, a page at a time; `stream.open` is sent once that backlog is out (a verifier counts
 * itself current from then on).
 *
 * Live events can arrive out of order or with gaps (on Workers several isolates publish to one
 * hub; a hub may miss a publish). So the stream keeps a cursor — every pushed event up to it has
 * been sent — and a live event is sent at once only when the hub vouches that nothing pushed
 * came between (`prev` ≤ cursor); otherwise the gap is read back from the log first. The audit
 * log publishes only records already committed, and a committed seq implies every earlier one
 * is (the chain), so the read finds what was missed. Used by the broker on Node and by the
 * event hub Durable Object on Workers.
 */
export function serveEventStream(
  c: Context,
  o: {
    hub: EventFanout;
    store: Store;
    clock: Clock;
    lastEventId?: number;
    heartbeatMs?: number;
    pageSize?: number;
    onClose?: () => void;
    /** Called once `stream.open` is out (or the stream ended before it): its set-up is over. */
    onOpen?: () => void;
    view?: (e: VerifierEvent) => VerifierEvent | undefined;
    /** The stream ends (cleanly, at a heartbeat) once this old; the client resumes with Last-Event-ID. */
    maxMs?: number;
  },
) {
  return streamSSE(c, async (stream) => {
    let cursor = 0;
    const write = async (e: VerifierEvent) => {
      const shown = o.view ? o.view(e) : e;
      if (shown) await stream.writeSSE({ id: String(shown.id), event: shown.type, data: JSON.stringify(shown) });
    };

    /** Sends every pushed event in the log after the cursor, until `upTo` is covered (or the log ends). */
    const catchUp = async (upTo = Infinity) => {
      let pages = 0;
      for await (const page of backlogPages(o.store, cursor, o.pageSize ?? BACKLOG_PAGE, upTo)) {
        // A long backlog is sent a page per turn of the event loop, so that other requests run between pages.
        if (pages++ > 0) await laterTurn();
        // What the log shows may not be durable yet (an open SQLite group, an asynchronous commit):
        // one that is then rolled back hands its seq to another record, which a verifier sent the
        // lost one would skip as already sent. Wait for the flush; if it fails the stream ends and
        // the verifier resumes from what it was sent.
        if (page.events.length) await (o.store.barrier ? o.store.barrier() : o.store.flush());
        for (const e of page.events) if (e.id > cursor) await write(e);
        cursor = Math.max(cursor, page.lastSeq);
        if (cursor >= upTo || stream.aborted) return;
      }
    };
    const offer = async (e: VerifierEvent, prev?: number) => {
      if (e.id <= cursor) return; // already sent (read back from the log)
      if (prev === undefined || prev > cursor) await catchUp(e.id);
      if (e.id > cursor) {
        // Not (yet) readable where we looked: it is real, send it; nothing before it is missing
        // that the log could still show us, since its seq is committed after theirs.
        await write(e);
        cursor = e.id;
      }
    };

    let chain: Promise<unknown> = Promise.resolve();
    const enqueue = (f: () => Promise<unknown>) => (chain = chain.then(f).catch(() => stream.abort()));
    const unsubscribe = o.hub.subscribe((e, prev) => void enqueue(() => offer(e, prev)));
    stream.onAbort(() => {
      unsubscribe();
      o.onOpen?.();
      o.onClose?.(); // at once: the loop below may be asleep until the next heartbeat
    });
    const started = o.clock.now();
    try {
      const head = (await o.store.audit.last())?.seq ?? 0;
      if (o.lastEventId !== undefined) {
        cursor = Math.min(o.lastEventId, head);
        await enqueue(() => catchUp(head));
      } else cursor = head;
      // The interval is announced so a follower can set its silence deadline from it.
      const every = o.heartbeatMs ?? HEARTBEAT_MS;
      await enqueue(() => stream.writeSSE({ event: 'stream.open', data: JSON.stringify({ head: Math.max(head, cursor), heartbeat_ms: every }) }));
      o.onOpen?.();
      while (!stream.aborted) {
        await stream.sleep(every);
        if (o.maxMs !== undefined && o.clock.now() - started >= o.maxMs) {
          // Said before the end, so that a verifier reconnects at once as a handover, not an outage.
          await enqueue(() => stream.writeSSE({ event: 'stream.lease_ended', data: JSON.stringify({ last_event_id: cursor }) }));
          break;
        }
        await enqueue(() => stream.writeSSE({ event: 'heartbeat', data: JSON.stringify({ at: o.clock.now() }) }));
      }
    } finally {
      unsubscribe();
      o.onOpen?.();
      o.onClose?.();
    }
  });
}

/** `Last-Event-ID` (or `?last_event_id=`), validated; undefined when absent. */
export function lastEventIdOf(c: Context): number | undefined | 'invalid' {
  const raw = c.req.header('Last-Event-ID') ?? c.req.query('last_event_id');
  if (raw === undefined) return undefined;
  return /^\d{1,16}$/.test(raw) ? Number(raw) : 'invalid';
}
