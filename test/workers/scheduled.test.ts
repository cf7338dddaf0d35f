import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/runtime/cloudflare/broker.js';

// The broker Worker's Cron Trigger purges expired replay and revocation rows from D1; before
// it, nothing did.
describe('scheduled housekeeping on Workers', () => {
  it('purges expired replay and revocation rows and keeps live ones', async () => {
    const db = (env as any).DB as D1Database;
    const past = Date.now() - 60_000;
    const future = Date.now() + 600_000;
    const rows = Array.from({ length: 200 }, (_, i) => db.prepare('insert into replay (namespace, jti, expires_at) values (?, ?, ?)').bind('sched', `old-${i}`, past));
    await db.batch([...rows, db.prepare('insert into replay (namespace, jti, expires_at) values (?, ?, ?)').bind('sched', 'live', future)]);
    await db.prepare('insert into revoked_tokens (jti, expires_at) values (?, ?)').bind('sched-old', past).run();
    await worker.scheduled({ cron: '*/5 * * * *', scheduledTime: Date.now() }, env as any);
    const left = await db.prepare("select jti from replay where namespace = 'sched'").all();
    expect(left.results.map((r: any) => r.jti)).toEqual(['live']);
    expect((await db.prepare("select count(*) as n from revoked_tokens where jti = 'sched-old'").first())!.n).toBe(0);
  });
});
