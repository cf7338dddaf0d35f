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

export const HUB_NAME = 'events';

export class EventHubObject {
  private readonly hub = new EventHub();
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
        // a resource service's stream: only the events of its environment and those naming none
        const environment = c.req.query('environment');
        const concerns = environment === undefined ? undefined : eventsFor(environment);
        const view = concerns && ((e: VerifierEvent) => (concerns(e) ? e : undefined));
        return serveEventStream(c, { hub: this.hub, store, clock: systemClock, lastEventId: last === 'invalid' ? undefined : last, view });
      });
  }

  fetch(request: Request): Response | Promise<Response> {
    return this.app.fetch(request);
  }
}
