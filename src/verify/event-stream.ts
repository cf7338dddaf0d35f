import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface StreamOptions {
  url: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
  /** Called for every event, heartbeats included, in order (`stream.open` once the backlog is sent). */
  onEvent: (m: EventSourceMessage) => void;
  onState: (connected: boolean) => void;
  lastEventId: () => number;
  /** Reconnect delay, ms (doubles up to 30 s while failing; each wait is a random half to all of it). */
  retryMs?: number;
}

/**
 * Follows the broker's SSE stream for as long as it runs, reconnecting with `Last-Event-ID`
 * so that nothing is missed across a drop.
 */
export function followStream(o: StreamOptions): { close: () => void } {
  let closed = false;
  let controller: AbortController | undefined;
  const base = o.retryMs ?? 500;

  const run = async () => {
    let delay = base;
    while (!closed) {
      controller = new AbortController();
      let told = 0; // a broker's Retry-After (a 503 while many verifiers set up at once), ms
      try {
        // A verifier that has heard nothing yet asks for what could still matter (`from=recent`:
        // the head minus the longest token lifetime), not for the whole history.
        const last = o.lastEventId();
        const res = await o.fetch(last > 0 ? o.url : `${o.url}${o.url.includes('?') ? '&' : '?'}from=recent`, {
          headers: { ...o.headers, Accept: 'text/event-stream', ...(last > 0 ? { 'Last-Event-ID': String(last) } : {}) },
          signal: controller.signal,
        });
        if (!res.ok || !res.body) {
          const after = Number(res.headers.get('Retry-After'));
          if ((res.status === 503 || res.status === 429) && Number.isFinite(after) && after > 0) told = Math.min(after, 60) * 1000;
          throw new Error(`event stream answered ${res.status}`);
        }
        delay = base;
        // Connected once the backlog is applied: the broker sends `stream.open` after it, and
        // events are handled in order, so every earlier one has been applied by then.
        let handover = false;
        const parser = createParser({
          onEvent: (m) => {
            // The server ends a stream after its lease (the Workers hub): reconnect at once, and
            // stay current meanwhile — the staleness bound still holds if the reconnect fails.
            if (m.event === 'stream.lease_ended') handover = true;
            o.onEvent(m);
            if (m.event === 'stream.open') o.onState(true);
          },
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
        if (handover && !closed) continue;
      } catch {
        // fall through to reconnect
      }
      o.onState(false);
      if (closed) return;
      // Jittered (half to all of the delay): after a broker restart every verifier loses its
      // stream at once, and reconnecting in step would arrive as one burst (issue 23).
      await new Promise((r) => setTimeout(r, Math.max(delay / 2 + (Math.random() * delay) / 2, told)));
      delay = Math.min(delay * 2, 30_000);
    }
  };
  void run();
  return {
    close: () => {
      closed = true;
      controller?.abort();
    },
  };
}
