import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ADMIN, admin, ISSUER, openTask } from './open-task.js';

// /v1/events on Workers is served by the event hub Durable Object: a revocation raised by any
// request reaches a stream opened through any other, and Last-Event-ID resumes from D1.
async function revokedTask(): Promise<string> {
  const { task_id } = await openTask('events');
  await admin(`/v1/tasks/${task_id}/revoke`, {});
  return task_id;
}

async function readUntil(res: Response, pred: (events: { event?: string; data: any }[]) => boolean) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const events: { event?: string; data: any }[] = [];
  while (!pred(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data) events.push({ event: ev, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return events;
}

describe('events on Workers', () => {
  it('a live stream receives a revocation made by another request', async () => {
    const stream = await admin('/v1/events');
    expect(stream.headers.get('Content-Type')).toMatch(/text\/event-stream/);
    const got = readUntil(stream, (es) => es.some((e) => e.event === 'task.revoked'));
    await new Promise((r) => setTimeout(r, 50));
    const id = await revokedTask();
    const events = await got;
    expect(events[0]!.event).toBe('stream.open');
    expect(events.find((e) => e.event === 'task.revoked')!.data.task_id).toBe(id);
  });

  it('a resource service of production hears production\'s events, not staging\'s (filtered in the hub)', async () => {
    const svc = (await (await admin('/v1/resources', { name: 'prod-volumes', audience: 'https://api.production.example/volumes' })).json()) as { client_id: string; client_secret: string };
    const stream = await SELF.fetch(`${ISSUER}/v1/events`, { headers: { Authorization: `Basic ${btoa(`${svc.client_id}:${svc.client_secret}`)}` } });
    expect(stream.status).toBe(200);
    const got = readUntil(stream, (es) => es.some((e) => e.event === 'scope.revoked' && e.data.scope === 'env:production'));
    await new Promise((r) => setTimeout(r, 50));
    const staging = await revokedTask();
    expect((await admin('/v1/revocations', { environment: 'production' })).status).toBe(200);
    const events = await got;
    expect(events.some((e) => e.data.task_id === staging)).toBe(false);
    expect(JSON.stringify(events)).not.toContain('"env:staging"');
  });

  it('resumes from the audit log with Last-Event-ID', async () => {
    const id = await revokedTask();
    const res = await SELF.fetch(`${ISSUER}/v1/events`, { headers: { Authorization: `Bearer ${ADMIN}`, 'Last-Event-ID': '0' } });
    const events = await readUntil(res, (es) => es.some((e) => e.event === 'task.revoked' && e.data.task_id === id));
    expect(events.filter((e) => e.event === 'task.revoked').length).toBeGreaterThanOrEqual(1);
  });
});
