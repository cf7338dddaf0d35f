import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/adapters/memory/store.js';
import { AuditLog } from '../src/core/audit.js';
import { EventHub } from '../src/core/events.js';
import type { Store } from '../src/core/ports.js';
import { serveEventStream } from '../src/http/event-stream.js';

/**
 * Review (second pass), area 3: the stream reads its backlog straight from the audit log. On
 * SQLite a record is readable (same connection) while its group is still open, and on PostgreSQL
 * once it committed asynchronously, before either is durable. If the group then rolls back (a
 * failed COMMIT: disk full, I/O error) or the server crashes, the seq is handed to another record
 * (audit.reset), and a verifier that was sent the lost one has its cursor past that seq: the
 * replacement — say a revocation — is dropped as "already sent" and never heard. The audit log
 * publishes live events only once durable; the backlog must not send what it read before that.
 */
describe('review: the event stream sends only durable records', () => {
  it('does not send a backlog record whose commit then fails', async () => {
    const inner = createMemoryStore();
    let rolledBack = false;
    const store: Store = { ...inner, flush: async () => (rolledBack ? Promise.reject(new Error('COMMIT failed: disk full')) : undefined) };
    const audit = new AuditLog(inner, { now: () => Date.now() });
    await audit.append({ type: 'token.revoked', actor: 'admin', data: { jti: 'will-be-rolled-back' } });
    rolledBack = true; // the group holding seq 1 fails to commit
    const app = new Hono().get('/e', (c) =>
      serveEventStream(c, { hub: new EventHub(), store, clock: { now: () => Date.now() }, lastEventId: 0, heartbeatMs: 10, maxMs: 60 }),
    );
    const res = await app.request('/e');
    const text = await res.text();
    expect(text).not.toContain('will-be-rolled-back');
    expect(text).not.toMatch(/^id: 1$/m);
  });
});
