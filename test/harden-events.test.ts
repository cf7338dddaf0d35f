// Issue 12 finding 10: verifiers can miss stops. The stream delivers in order with no gaps
// (backfilling from the audit log), publishes only committed records, counts a verifier
// connected once its backlog is applied, starts a fresh verifier at head minus the longest
// token lifetime, pages the backlog and caps streams per client.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../src/core/audit.js';
import { backlogPages, longestTokenLifetime, toVerifierEvent } from '../src/core/events.js';
import { followStream } from '../src/verify/event-stream.js';
import { ADMIN, testBroker, type TestBroker } from './helpers/broker.js';

/** Opens /v1/events; `next(n)` resolves with the next n non-heartbeat events. */
async function open(b: TestBroker, headers: Record<string, string> = {}, query = '') {
  const res = await b.request(`/v1/events${query}`, { headers: { Authorization: `Bearer ${ADMIN}`, ...headers } });
  expect(res.status).toBe(200);
  const got: EventSourceMessage[] = [];
  let wake: (() => void) | undefined;
  const parser = createParser({ onEvent: (m) => (m.event !== 'heartbeat' && got.push(m), wake?.()) });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      parser.feed(value!);
    }
  })();
  let taken = 0;
  return {
    async next(n: number) {
      while (got.length < taken + n) await new Promise<void>((r) => ((wake = r), setTimeout(r, 20)));
      const out = got.slice(taken, taken + n);
      taken += n;
      return out;
    },
    pending: () => got.slice(taken),
    close: async () => {
      await reader.cancel().catch(() => undefined);
      await reading;
    },
  };
}

const revoked = (task: string) => ({ type: 'task.revoked', actor: 'test', taskId: task, data: { reason: 'test' } });
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('in order, with no gaps', () => {
  it('a pushed record the hub never heard of is read back from the log before the next live one', async () => {
    const b = await testBroker();
    const s = await open(b);
    expect((await s.next(1))[0]!.event).toBe('stream.open');
    // Another writer of the same log (its own process): the hub is not told.
    await new AuditLog(b.core.store, b.clock).append(revoked('task_missed'));
    await b.core.store.flush();
    await b.core.audit.append(revoked('task_live'));
    const got = await s.next(2);
    expect(got.map((m) => JSON.parse(m.data).task_id)).toEqual(['task_missed', 'task_live']);
    expect(Number(got[0]!.id)).toBeLessThan(Number(got[1]!.id));
    await s.close();
  });

  it('live events that arrive out of order (a shared hub) are sent in audit order, once each', async () => {
    const b = await testBroker();
    const s = await open(b);
    await s.next(1);
    const other = new AuditLog(b.core.store, b.clock);
    const first = await other.append(revoked('task_1'));
    const second = await other.append(revoked('task_2'));
    await b.core.store.flush();
    b.core.events.deliver(toVerifierEvent(second));
    b.core.events.deliver(toVerifierEvent(first));
    b.core.events.deliver(toVerifierEvent(second));
    const got = await s.next(2);
    expect(got.map((m) => JSON.parse(m.data).task_id)).toEqual(['task_1', 'task_2']);
    await settle();
    expect(s.pending()).toEqual([]);
    await s.close();
  });

  it('the audit log tells the hub of a record only once it is committed', async () => {
    const b = await testBroker();
    const heard: number[] = [];
    b.core.events.subscribe((e) => heard.push(e.id));
    const r = await b.core.audit.append(revoked('task_x'));
    expect(heard).toEqual([]); // appended inside an open group commit: not durable yet
    await b.core.store.flush();
    await settle();
    expect(heard).toEqual([r.seq]);
  });

  it('a live event not yet readable in the log is still sent, after what the log holds before it', async () => {
    const b = await testBroker();
    const s = await open(b);
    await s.next(1);
    const before = await new AuditLog(b.core.store, b.clock).append(revoked('task_before'));
    await b.core.store.flush();
    // The hub hands over an event the log does not show yet (another isolate's, in flight).
    b.core.events.deliver({ id: before.seq + 1, type: 'task.revoked', at: b.clock.now(), task_id: 'task_unread' });
    expect((await s.next(2)).map((m) => JSON.parse(m.data).task_id)).toEqual(['task_before', 'task_unread']);
    await s.close();
  });

  it('a backlog reads only the pushed records, never every token issued in the window (issue 23)', async () => {
    const b = await testBroker();
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    for (let i = 0; i < 30; i++) await agent.exchange(task.body.access_token, { scope: 'config.read' });
    await b.core.audit.append(revoked('task_gone'));
    await b.core.store.flush();
    let full = 0;
    const list = b.core.store.audit.list.bind(b.core.store.audit);
    b.core.store.audit.list = async (after, limit) => ((full += limit > 1 ? 1 : 0), list(after, limit));
    const recent = await open(b, {}, '?from=recent');
    expect((await recent.next(2)).map((m) => (m.event === 'stream.open' ? 'open' : JSON.parse(m.data).task_id))).toEqual(['task_gone', 'open']);
    expect(full).toBe(0); // one-row probes (the bisection for from=recent) only
    await recent.close();
  });

  it('the backlog is read a page at a time', async () => {
    const b = await testBroker();
    for (let i = 0; i < 5; i++) await b.core.audit.append(revoked(`task_${i}`));
    await b.core.store.flush();
    const pages = [];
    for await (const p of backlogPages(b.core.store, 0, 2)) pages.push(p.events.map((e) => e.task_id));
    expect(pages).toEqual([['task_0', 'task_1'], ['task_2', 'task_3'], ['task_4']]);
  });
});

describe('where a verifier starts, and when it counts as connected', () => {
  it('from=recent starts at head minus the longest token lifetime; Last-Event-ID: 0 still replays all', async () => {
    const b = await testBroker();
    await b.core.audit.append(revoked('task_old'));
    b.clock.advance(longestTokenLifetime(b.core.policy) + 1);
    await b.core.audit.append(revoked('task_recent'));
    await b.core.store.flush();
    const recent = await open(b, {}, '?from=recent');
    expect((await recent.next(2)).map((m) => m.event === 'stream.open' ? 'open' : JSON.parse(m.data).task_id)).toEqual(['task_recent', 'open']);
    await recent.close();
    const all = await open(b, { 'Last-Event-ID': '0' });
    expect((await all.next(3)).map((m) => m.event === 'stream.open' ? 'open' : JSON.parse(m.data).task_id)).toEqual(['task_old', 'task_recent', 'open']);
    await all.close();
  });

  it('from=recent finds its start once a second for everyone: a reconnect storm bisects the log once, and misses nothing', async () => {
    const b = await testBroker();
    await b.core.audit.append(revoked('task_a'));
    await b.core.store.flush();
    let probes = 0;
    const list = b.core.store.audit.list.bind(b.core.store.audit);
    b.core.store.audit.list = async (after, limit) => ((probes += limit === 1 ? 1 : 0), list(after, limit));
    const label = (m: { event?: string; data: string }) => (m.event === 'stream.open' ? 'open' : JSON.parse(m.data).task_id);
    const first = await open(b, {}, '?from=recent');
    expect((await first.next(2)).map(label)).toEqual(['task_a', 'open']);
    const once = probes;
    expect(once).toBeGreaterThan(0);
    await b.core.audit.append(revoked('task_b'));
    await b.core.store.flush();
    const second = await open(b, {}, '?from=recent');
    expect((await second.next(3)).map(label)).toEqual(['task_a', 'task_b', 'open']);
    expect(probes).toBe(once);
    await first.close();
    await second.close();
  });

  it('a fresh verifier asks for from=recent, and is connected only after stream.open (its backlog applied)', async () => {
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const log: string[] = [];
    const body = 'id: 7\nevent: task.stopped\ndata: {"id":7,"type":"task.stopped","task_id":"t"}\n\nevent: stream.open\ndata: {"head":7}\n\n';
    const fake = (async (url: string, init: RequestInit) => {
      calls.push({ url, headers: init.headers as Record<string, string> });
      return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(body)) }), { headers: { 'Content-Type': 'text/event-stream' } });
    }) as unknown as typeof fetch;
    const s = followStream({ url: 'http://broker/v1/events', headers: {}, fetch: fake, lastEventId: () => 0, onEvent: (m) => log.push(`event ${m.event}`), onState: (up) => log.push(`state ${up}`) });
    await settle();
    s.close();
    expect(calls[0]!.url).toBe('http://broker/v1/events?from=recent');
    expect(calls[0]!.headers['Last-Event-ID']).toBeUndefined();
    expect(log).toEqual(['event task.stopped', 'event stream.open', 'state true']);
  });
});

describe('streams per client', () => {
  it('a client holding 8 streams gets 429 too_many_requests for a ninth, and a slot back when one closes', async () => {
    const b = await testBroker();
    const streams = [];
    for (let i = 0; i < 8; i++) {
      const s = await open(b);
      await s.next(1);
      streams.push(s);
    }
    const ninth = await b.request('/v1/events', { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(ninth.status).toBe(429);
    expect(((await ninth.json()) as any).error).toBe('too_many_requests');
    await streams.pop()!.close();
    await settle();
    const again = await open(b);
    await again.next(1);
    await again.close();
    for (const s of streams) await s.close();
  });
});
