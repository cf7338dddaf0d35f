import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_ADMIN, liveBroker } from './helpers/live.js';

let live: Awaited<ReturnType<typeof liveBroker>>;
beforeAll(async () => {
  live = await liveBroker();
});
afterAll(() => live.close());

/** Reads the event stream until `count` non-heartbeat events arrived (or `stopAt` says so). */
async function read(headers: Record<string, string>, count: number): Promise<EventSourceMessage[]> {
  const ctl = new AbortController();
  const res = await fetch(`${live.issuer}/v1/events`, { headers: { Authorization: `Bearer ${LIVE_ADMIN}`, ...headers }, signal: ctl.signal });
  expect(res.headers.get('Content-Type')).toMatch(/^text\/event-stream/);
  const out: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => m.event !== 'heartbeat' && out.push(m) });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
  ctl.abort();
  return out;
}

async function revokedTask() {
  const a = await live.operator.agent(`a-${crypto.randomUUID()}`, 'alice', ['fix-credentials']);
  const t = await a.openTask('fix-credentials', 'staging', 'x');
  await live.operator.call('POST', `/v1/tasks/${t.body.task_id}/revoke`, {});
  return t.body.task_id as string;
}

describe('GET /v1/events', () => {
  it('replays from Last-Event-ID, in order, then stays open for live events', async () => {
    const first = await revokedTask();
    const second = await revokedTask();
    const all = await read({ 'Last-Event-ID': '0' }, 3);
    const revocations = all.filter((m) => m.event === 'task.revoked');
    expect(revocations.map((m) => JSON.parse(m.data).task_id)).toEqual([first, second]);
    const firstId = revocations[0]!.id!;

    const resumed = read({ 'Last-Event-ID': firstId }, 3);
    const third = await (async () => {
      await new Promise((r) => setTimeout(r, 50));
      return revokedTask();
    })();
    const got = (await resumed).filter((m) => m.event === 'task.revoked').map((m) => JSON.parse(m.data).task_id);
    expect(got).toEqual([second, third]);
  });

  it('without Last-Event-ID starts from now', async () => {
    await revokedTask();
    const stream = read({}, 2);
    await new Promise((r) => setTimeout(r, 50));
    const next = await revokedTask();
    const got = await stream;
    expect(got[0]!.event).toBe('stream.open');
    expect(JSON.parse(got[1]!.data).task_id).toBe(next);
  });

  it('is for resource services and the operator only', async () => {
    const res = await fetch(`${live.issuer}/v1/events`);
    expect(res.status).toBe(401);
    const bad = await fetch(`${live.issuer}/v1/events`, { headers: { Authorization: `Bearer ${LIVE_ADMIN}`, 'Last-Event-ID': 'abc' } });
    expect(bad.status).toBe(400);
  });
});
