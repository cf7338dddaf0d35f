import { env, SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../src/runtime/cloudflare/broker.js';
import { MAX_STREAMS_PER_CLIENT } from '../../src/http/stream-slots.js';
import { STREAM_LEASE_MS } from '../../src/runtime/cloudflare/event-hub.js';
import { ADMIN, ISSUER } from './open-task.js';

// Issue 21 item 10: on Workers every stream is served by the event hub Durable Object, so that is
// where a client's streams are counted (the isolate that answered used to hand the stream over
// uncounted). And aggregates whose interval ended are written after the answer, under waitUntil.

const stream = () => SELF.fetch(`${ISSUER}/v1/events`, { headers: { Authorization: `Bearer ${ADMIN}` } });

describe('event streams on Workers: the per-client cap is counted in the hub', () => {
  afterEach(() => vi.useRealTimers());

  it(`a client's stream past ${MAX_STREAMS_PER_CLIENT} is refused with 429; a stream's lease ending frees its slot`, async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const open: Response[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_CLIENT; i++) {
      const res = await stream();
      expect(res.status).toBe(200);
      open.push(res);
    }
    const refused = await stream();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBeTruthy();
    expect(((await refused.json()) as { error: string }).error).toBe('too_many_requests');
    // A vanished client is not always reported to the hub (workerd#6832): its streams end at
    // their lease, checked at each heartbeat (every 5 s), and the verifier resumes.
    await open.pop()!.body!.cancel();
    vi.setSystemTime(Date.now() + STREAM_LEASE_MS + 1000);
    await expect.poll(async () => {
      const res = await stream();
      if (res.status === 200) open.push(res);
      else await res.body?.cancel();
      return res.status;
    }, { timeout: 15_000, interval: 500 }).toBe(200);
    for (const r of open) await r.body!.cancel();
  });
});

describe('aggregates on Workers are flushed with waitUntil', () => {
  afterEach(() => vi.useRealTimers());

  it('refusals counted in one request are written after a later answer once their interval has ended', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const db = (env as any).DB as D1Database;
    const count = async () => ((await db.prepare("select count(*) as n from audit where type = 'token.refused.aggregate'").first()) as { n: number }).n;
    const waits: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void waits.push(p) };
    const junk = new Request(`${ISSUER}/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=nobody' });
    expect((await worker.fetch(junk, env as any, ctx)).status).toBe(400);
    await Promise.all(waits.splice(0));
    const before = await count();
    vi.setSystemTime(Date.now() + 61_000);
    // An ordinary request, no refusal: only the flush after its answer can write the counts.
    expect((await worker.fetch(new Request(`${ISSUER}/.well-known/jwks.json`), env as any, ctx)).status).toBe(200);
    expect(waits.length).toBeGreaterThan(0);
    await Promise.all(waits.splice(0));
    expect(await count()).toBe(before + 1);
  });
});
