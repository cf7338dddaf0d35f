import { describe, expect, it } from 'vitest';
import { followStream } from '../src/verify/event-stream.js';

// The Workers event hub ends each stream after a lease (docs/workers.md), announcing it with
// `stream.lease_ended`: a verifier reconnects at once with Last-Event-ID and stays current
// meanwhile, instead of counting a handover as an outage (which would refuse tokens).
describe('a stream ended at its lease is a handover, not an outage', () => {
  it('reconnects at once from the last event, without ever reporting itself disconnected', async () => {
    const calls: Record<string, string>[] = [];
    const log: string[] = [];
    const sse = (text: string, end: boolean) =>
      new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), end ? c.close() : undefined) }), { headers: { 'Content-Type': 'text/event-stream' } });
    let last = 0;
    const fake = (async (_url: string, init: RequestInit) => {
      calls.push(init.headers as Record<string, string>);
      if (calls.length === 1) return sse('id: 7\nevent: task.stopped\ndata: {"id":7}\n\nevent: stream.open\ndata: {"head":7}\n\nevent: stream.lease_ended\ndata: {"last_event_id":7}\n\n', true);
      return sse('event: stream.open\ndata: {"head":7}\n\n', false);
    }) as unknown as typeof fetch;
    const s = followStream({
      url: 'http://broker/v1/events',
      headers: {},
      fetch: fake,
      retryMs: 60_000, // a reconnect that waited would not happen within this test
      lastEventId: () => last,
      onEvent: (m) => {
        if (m.id) last = Number(m.id);
        log.push(`event ${m.event}`);
      },
      onState: (up) => log.push(`state ${up}`),
    });
    await expect.poll(() => calls.length).toBe(2);
    await expect.poll(() => log.filter((l) => l === 'state true').length).toBe(2);
    s.close();
    expect(log).not.toContain('state false');
    expect(calls[1]!['Last-Event-ID']).toBe('7');
  });

  it('a stream that just ends is still an outage (reported, and retried after a pause)', async () => {
    const log: string[] = [];
    let calls = 0;
    const fake = (async () => {
      calls++;
      return new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('event: stream.open\ndata: {"head":1}\n\n')), c.close()) }));
    }) as unknown as typeof fetch;
    const s = followStream({ url: 'http://broker/v1/events', headers: {}, fetch: fake, retryMs: 60_000, lastEventId: () => 0, onEvent: () => undefined, onState: (up) => log.push(`state ${up}`) });
    await expect.poll(() => log).toEqual(['state true', 'state false']);
    s.close();
    expect(calls).toBe(1);
  });
});
