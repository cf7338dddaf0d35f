// The event hub as a Durable Object: one instance that every broker isolate publishes to and
// every verifier's stream is served from, so a stop raised anywhere reaches every subscriber.
// The backlog for Last-Event-ID comes from the audit log in D1, as on Node.
import { drizzle } from 'drizzle-orm/d1';
import { Hono } from 'hono';
import * as schema from '../../adapters/sqlite/schema.js';
import { createSqliteStore, type SqliteDb } from '../../adapters/sqlite/store.js';
import { EventHub, eventsFor, type VerifierEvent } from '../../core/events.js';
import { systemClock } from '../../core/ports.js';
import { lastEventIdOf, serveEventStream } from '../../http/event-stream.js';
import { StreamSlots } from '../../http/stream-slots.js';

export const HUB_NAME = 'events';

/**
 * How long one stream is served before the hub ends it (the verifier resumes with Last-Event-ID).
 * The hub counts each client's streams, and a stream's slot is freed when the hub sees it close;
 * workerd does not always tell a Durable Object that the far end went away (a client disconnect
 * no longer cancels a JS response body: workerd#6832), so without an end a vanished client
 * would hold its slots for ever. This bounds that to one lease.
 */
export const STREAM_LEASE_MS = 5 * 60_000;

export class EventHubObject {
  private readonly hub = new EventHub();
  /** Every stream of every isolate is served here, so this count is the global one. */
  private readonly slots = new StreamSlots();
  private readonly app: Hono;

  constructor(_state: unknown, env: { DB: Parameters<typeof drizzle>[0] }) {
    const store = createSqliteStore(drizzle(env.DB, { schema }) as unknown as SqliteDb);
    this.app = new Hono()
      .post('/publish', async (c) => {
        for (const e of (await c.req.json()) as VerifierEvent[]) this.hub.deliver(e);
        return c.body(null, 204);
      })
      .get('/subscribe', (c) => {
        const last = lastEventIdOf(c);
        // The broker authenticated the client; the hub is reachable only through its binding.
        const client = c.req.query('client') ?? '';
        const release = this.slots.take(client);
        if (!release) return c.text(`this client already holds ${this.slots.held(client)} event streams; close one first`, 429);
        // a resource service's stream: only the events of its environment and those naming none
        const environment = c.req.query('environment');
        const concerns = environment === undefined ? undefined : eventsFor(environment);
        const view = concerns && ((e: VerifierEvent) => (concerns(e) ? e : undefined));
        return serveEventStream(c, { hub: this.hub, store, clock: systemClock, lastEventId: last === 'invalid' ? undefined : last, onClose: release, maxMs: STREAM_LEASE_MS, view });
      });
  }

  fetch(request: Request): Response | Promise<Response> {
    return this.app.fetch(request);
  }
}
