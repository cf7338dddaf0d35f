import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface StreamOptions {
  url: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
  /** Called for every event, heartbeats included, in order. */
  onEvent: (m: EventSourceMessage) => void;
  onState: (connected: boolean) => void;
  lastEventId: () => number;
  /** Reconnect delay, ms (doubles up to 30 s while failing). */
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
      try {
        const res = await o.fetch(o.url, {
          headers: { ...o.headers, Accept: 'text/event-stream', 'Last-Event-ID': String(o.lastEventId()) },
          signal: controller.signal,
        });
        if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
        o.onState(true);
        delay = base;
        const parser = createParser({ onEvent: o.onEvent });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        // fall through to reconnect
      }
      o.onState(false);
      if (closed) return;
      await new Promise((r) => setTimeout(r, delay));
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
