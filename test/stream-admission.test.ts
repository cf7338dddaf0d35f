// Issue 23: a reconnect storm of verifiers must not hold the broker's thread. Event stream
// set-ups are admitted a few at a time and a few per turn of the event loop; the rest wait,
// boundedly, and every stream still gets its whole backlog and every live event, once each.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it, vi } from 'vitest';
import { followStream } from '../src/verify/event-stream.js';
import { registerResource } from '../src/core/resources.js';
import { createBrokerApp } from '../src/http/broker-app.js';
import { StreamAdmission } from '../src/http/stream-admission.js';
import { ISSUER, testBroker } from './helpers/broker.js';

const revoked = (task: string) => ({ type: 'task.revoked', actor: 'test', taskId: task, data: { reason: 'test' } });
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A stream's events (heartbeats aside) as they arrive. */
function follow(res: Response) {
  const got: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => m.event !== 'heartbeat' && got.push(m) });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      parser.feed(value!);
    }
  })();
  return {
    got,
    async until(pred: (got: EventSourceMessage[]) => boolean) {
      for (let i = 0; i < 500 && !pred(got); i++) await new Promise((r) => setTimeout(r, 10));
      expect(pred(got)).toBe(true);
    },
    close: async () => {
      await reader.cancel().catch(() => undefined);
      await reading;
    },
  };
}

describe('stream admission', () => {
  it('starts at most a few set-ups per turn of the loop and in progress; the rest wait in arrival order', async () => {
    const a = new StreamAdmission(2, 10);
    const order: number[] = [];
    const first = a.admit();
    const second = a.admit();
    expect(typeof first).toBe('function');
    expect(typeof second).toBe('function');
    const waiting = [3, 4, 5].map((n) => (a.admit() as Promise<(() => void) | undefined>).then((release) => (order.push(n), release)));
    (first as () => void)();
    (second as () => void)();
    // Released in this turn: the next ones start on a later turn, not in this one.
    expect(order).toEqual([]);
    expect(a.counts).toEqual({ active: 0, waiting: 3 });
    await nextTurn();
    await nextTurn();
    expect(order).toEqual([3, 4]);
    expect(a.counts).toEqual({ active: 2, waiting: 1 });
    for (const r of await Promise.all(waiting.slice(0, 2))) r!();
    await nextTurn();
    await nextTurn();
    expect(order).toEqual([3, 4, 5]);
  });

  it('stream requests are let on to authentication a few per turn of the loop, in arrival order; the line is bounded', async () => {
    const a = new StreamAdmission(2, 10, 1000, 3, 5);
    const order: number[] = [];
    const arrivals = Array.from({ length: 8 }, () => a.arrive());
    expect(arrivals.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(arrivals[3]).toBeInstanceOf(Promise);
    expect(a.arrive()).toBe('full'); // 5 waiting: the bound
    const waiting = arrivals.slice(3).map((p, i) => (p as Promise<void>).then(() => order.push(i + 3)));
    await nextTurn();
    expect(order).toEqual([3, 4, 5]);
    await nextTurn();
    expect(order).toEqual([3, 4, 5, 6, 7]);
    await Promise.all(waiting);
    await nextTurn();
    expect(a.arrive()).toBeUndefined(); // an empty line and a new turn: straight on
  });

  it('a client that goes away while its set-up waits stops being watched once admitted, and one already gone never waits', async () => {
    const a = new StreamAdmission(1, 10);
    const held = a.admit() as () => void;
    let watching = 0;
    const next = a.admit(() => (watching++, () => void watching--)) as Promise<(() => void) | undefined>;
    expect(watching).toBe(1);
    held();
    await nextTurn();
    expect(typeof (await next)).toBe('function');
    expect(watching).toBe(0);
    const gone = a.admit((onGone) => (onGone(), () => undefined));
    expect(await gone).toBeUndefined();
    expect(a.counts.waiting).toBe(0);
  });

  it('a set-up whose client does not read lets the next one in after a while', async () => {
    const a = new StreamAdmission(1, 10, 20);
    a.admit(); // never released: its stream.open waits on a client that does not read
    const next = a.admit() as Promise<(() => void) | undefined>;
    expect(typeof (await next)).toBe('function');
  });

  it('a set-up that never gave the loop back still counts for its turn', async () => {
    const a = new StreamAdmission(2, 10);
    // Each one done at once (its stream opened without waiting for anything).
    (a.admit() as () => void)();
    (a.admit() as () => void)();
    const third = a.admit();
    expect(third).toBeInstanceOf(Promise);
    await nextTurn();
    expect(typeof (await third)).toBe('function');
  });

  it('the line is bounded; one who leaves it frees its place, and no permit it never held', async () => {
    const a = new StreamAdmission(1, 2);
    const held = a.admit() as () => void;
    let leave!: () => void;
    let watching = false;
    const gone = a.admit((onGone) => ((leave = onGone), (watching = true), () => void (watching = false))) as Promise<unknown>;
    expect(watching).toBe(true);
    const next = a.admit() as Promise<(() => void) | undefined>;
    expect(a.admit()).toBe('full');
    leave();
    expect(await gone).toBeUndefined();
    expect(a.counts).toEqual({ active: 1, waiting: 1 });
    const after = a.admit();
    expect(after).toBeInstanceOf(Promise); // a place again, but not a start: one is still in progress
    await nextTurn();
    await nextTurn();
    expect(a.counts).toEqual({ active: 1, waiting: 2 });
    held();
    const release = await next;
    expect(typeof release).toBe('function');
    expect(a.counts).toEqual({ active: 1, waiting: 1 });
  });
});

describe('GET /v1/events under a reconnect storm', () => {
  it('every one of many streams opened at once gets its whole backlog in order, then every live event, once each', async () => {
    const b = await testBroker();
    for (let i = 0; i < 7; i++) await b.core.audit.append(revoked(`task_old_${i}`));
    await b.core.store.flush();
    const auths: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { resource, secret } = await registerResource(b.core, { name: `v${i}`, audience: `https://api.staging.example/v${i}` }, 'test');
      auths.push(`Basic ${btoa(`${resource.id}:${secret}`)}`);
    }
    await b.core.store.flush();
    const opening = auths.map((a) => Promise.resolve(b.request('/v1/events', { headers: { Authorization: a, 'Last-Event-ID': '0' } })).then((res) => (expect(res.status).toBe(200), follow(res))));
    // While set-ups are still waiting their turn: a live event.
    await nextTurn();
    await b.core.audit.append(revoked('task_during'));
    const streams = await Promise.all(opening);
    const label = (m: EventSourceMessage) => (m.event === 'stream.open' ? 'open' : JSON.parse(m.data).task_id);
    for (const s of streams) await s.until((got) => got.some((m) => m.event === 'stream.open') && got.some((m) => m.data.includes('task_during')));
    await b.core.audit.append(revoked('task_after'));
    for (const s of streams) await s.until((got) => got.some((m) => m.data.includes('task_after')));
    const old = Array.from({ length: 7 }, (_, i) => `task_old_${i}`);
    for (const s of streams) {
      const labels = s.got.map(label);
      // task_during may come before or after stream.open (in the backlog or live), never twice.
      expect(labels.filter((l) => l !== 'open' && l !== 'task_during')).toEqual([...old, 'task_after']);
      expect(labels.filter((l) => l === 'task_during')).toHaveLength(1);
      expect(labels.filter((l) => l === 'open')).toHaveLength(1);
      const ids = s.got.filter((m) => m.id).map((m) => Number(m.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
    for (const s of streams) await s.close();
  });

  it('a stream that leaves while waiting frees its place and its slot only; past the line a verifier gets 503 with Retry-After', async () => {
    const b = await testBroker();
    const app = createBrokerApp({ core: b.core, adminToken: 'admin', rateLimit: false, streamSetups: { atOnce: 1, maxWaiting: 2 } });
    const auths: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { resource, secret } = await registerResource(b.core, { name: `v${i}`, audience: `https://api.staging.example/v${i}` }, 'test');
      auths.push(`Basic ${btoa(`${resource.id}:${secret}`)}`);
    }
    await b.core.store.flush();
    // Set-ups read the head; hold them there to see how many are in progress.
    let inProgress = 0;
    let most = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const last = b.core.store.audit.last.bind(b.core.store.audit);
    b.core.store.audit.last = async () => {
      most = Math.max(most, ++inProgress);
      await gate;
      inProgress--;
      return last();
    };
    const get = (auth: string, signal?: AbortSignal) => app.request(`${ISSUER}/v1/events`, { headers: { Authorization: auth }, signal });
    const first = await get(auths[0]!);
    await new Promise((r) => setTimeout(r, 10));
    expect(inProgress).toBe(1);
    const leaving = new AbortController();
    const gone = get(auths[1]!, leaving.signal);
    const third = get(auths[2]!);
    await new Promise((r) => setTimeout(r, 10));
    leaving.abort();
    await Promise.resolve(gone).catch(() => undefined);
    const fourth = get(auths[3]!);
    await new Promise((r) => setTimeout(r, 10));
    // The line holds the third and the fourth: the fifth is turned away, in RFC 9457's form.
    const fifth = await get(auths[4]!);
    expect(fifth.status).toBe(503);
    expect(Number(fifth.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(fifth.headers.get('Content-Type')).toBe('application/problem+json');
    expect(((await fifth.json()) as { error: string }).error).toBe('temporarily_unavailable');
    // The one that left held no set-up: none started in its place.
    expect(inProgress).toBe(1);
    open();
    const streams = [follow(first), follow(await third), follow(await fourth)];
    for (const s of streams) await s.until((got) => got.some((m) => m.event === 'stream.open'));
    expect(most).toBe(1);
    // Its slot came back too: the client that left can open a stream again.
    const again = follow(await get(auths[1]!));
    await again.until((got) => got.some((m) => m.event === 'stream.open'));
    for (const s of [...streams, again]) await s.close();
  });
});

describe('a verifier turned away', () => {
  it('reconnects after a random part of its delay, so that verifiers dropped together do not return together', async () => {
    vi.useFakeTimers();
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    try {
      let calls = 0;
      const fake = (async () => {
        calls++;
        return new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('event: stream.open\ndata: {}\n\n')), c.close()) }));
      }) as unknown as typeof fetch;
      const s = followStream({ url: 'http://broker/v1/events', headers: {}, fetch: fake, lastEventId: () => 0, onEvent: () => {}, onState: () => {}, retryMs: 1000 });
      await vi.advanceTimersByTimeAsync(490);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(20);
      expect(calls).toBe(2);
      s.close();
    } finally {
      random.mockRestore();
      vi.useRealTimers();
    }
  });

  it('comes back no sooner than the Retry-After it was given', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const fake = (async () => {
        calls++;
        if (calls === 1) return new Response('{}', { status: 503, headers: { 'Retry-After': '3' } });
        return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('event: stream.open\ndata: {}\n\n')) }));
      }) as unknown as typeof fetch;
      const s = followStream({ url: 'http://broker/v1/events', headers: {}, fetch: fake, lastEventId: () => 0, onEvent: () => {}, onState: () => {}, retryMs: 10 });
      await vi.advanceTimersByTimeAsync(2_900);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(200);
      expect(calls).toBe(2);
      s.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
