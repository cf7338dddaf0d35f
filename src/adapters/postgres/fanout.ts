import pg from 'pg';
import { EventHub, PUSHED_TYPES, type EventFanout } from '../../core/events.js';
import type { AuditRecord, Store } from '../../core/ports.js';

/** The channel nodes wake each other on. */
export const EVENTS_CHANNEL = 'stint_events';

export interface PgFanoutOptions {
  /** How the node's own LISTEN connection connects (openPostgres's `config`). */
  config: pg.ClientConfig;
  store: Store;
  /** The backstop: the log is read this often even when no notification came (ms). */
  pollMs?: number;
  /** A node that has not read the log for this long is not current (ms). */
  staleAfterMs?: number;
  /** Waits between reconnection attempts of the listener (ms). */
  reconnectMs?: number;
  now?: () => number;
}

/**
 * Every node's events on every node's streams, with PostgreSQL as the one truth.
 *
 * The audit table is the log: this node tails it from the head it found at start, in `seq`
 * order, and feeds each record to a local hub, which vouches for contiguous runs (EventHub), so
 * a stream sends at once what the tail read in order. A node wakes the others with
 * `NOTIFY stint_events, '<seq> <type> <scope> <epoch>'` after its own pushed records (revocations,
 * stops, locks: the rare commits, never minting), sent as a statement of its own so that no
 * audit insert waits on the database-wide lock a pending NOTIFY takes at commit. Notifications
 * are only a wake-up: they are lost while a listener is disconnected, and do not pass through
 * PgBouncer in transaction mode or reach standbys; so the tail is also read every `pollMs`, and
 * after every reconnection, and what it reads comes from the table, never from the payload.
 *
 * Decisions never wait on this: every token check reads the revocation rows themselves. What
 * this gives is the streams (and with `current()`, readiness: a node whose last read of the log
 * is older than `staleAfterMs` says it is not current).
 */
export class PgEventFanout implements EventFanout {
  private readonly hub = new EventHub();
  private readonly pollMs: number;
  private readonly staleAfterMs: number;
  private readonly reconnectMs: number;
  private readonly now: () => number;
  private cursor = 0;
  private confirmedAt = 0;
  private pulling: Promise<void> | undefined;
  private again = false;
  private listener: pg.Client | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Wake-ups heard (for tests and metrics). */
  notified = 0;

  constructor(private readonly o: PgFanoutOptions) {
    this.pollMs = o.pollMs ?? 250;
    this.staleAfterMs = o.staleAfterMs ?? 2_000;
    this.reconnectMs = o.reconnectMs ?? 500;
    this.now = o.now ?? Date.now;
  }

  /** Starts at the log's head: streams read anything older from the log themselves. */
  async start(): Promise<void> {
    this.cursor = (await this.o.store.audit.last())?.seq ?? 0;
    this.confirmedAt = this.now();
    await this.listen().catch(() => this.reconnectLater());
    const poll = () => {
      if (this.stopped) return;
      void this.pull().finally(() => {
        if (!this.stopped) this.pollTimer = setTimeout(poll, this.pollMs).unref();
      });
    };
    this.pollTimer = setTimeout(poll, this.pollMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    await this.listener?.end().catch(() => undefined);
    await this.pulling;
  }

  /** Whether the log was read within `staleAfterMs`: what this node knows is at most that old. */
  current(): boolean {
    return this.now() - this.confirmedAt <= this.staleAfterMs;
  }

  /** How long ago the log was last read, ms. */
  lag(): number {
    return this.now() - this.confirmedAt;
  }

  /** This node's own durable records: pushed ones wake the other nodes. */
  publish(record: AuditRecord): void {
    if (!PUSHED_TYPES.has(record.type)) return;
    const d = record.data as { scope?: unknown; epoch?: unknown };
    const payload = [record.seq, record.type, typeof d.scope === 'string' ? d.scope : '-', typeof d.epoch === 'number' ? d.epoch : '-'].join(' ');
    const c = this.listener;
    // On the listener's own connection: no pool slot taken; if it is down, the others' polls find the record.
    if (c) c.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, payload]).catch(() => undefined);
    void this.pull();
  }

  subscribe(listener: Parameters<EventHub['subscribe']>[0]): () => void {
    return this.hub.subscribe(listener);
  }

  /** Reads the log after the cursor and hands it on in order; one read at a time, repeated if woken meanwhile. */
  pull(): Promise<void> {
    if (this.pulling) {
      this.again = true;
      return this.pulling;
    }
    this.pulling = (async () => {
      try {
        do {
          this.again = false;
          const started = this.now();
          for (;;) {
            const page = await this.o.store.audit.list(this.cursor, 500);
            // Visible is not yet durable (asynchronous commits): a record lost in a crash would
            // hand its seq to another, which a stream that passed this one on would skip.
            if (page.length) await this.o.store.barrier?.();
            for (const r of page) {
              this.hub.publish(r);
              this.cursor = r.seq;
            }
            if (page.length < 500) break;
          }
          this.confirmedAt = started;
        } while (this.again && !this.stopped);
      } catch {
        // the database is away: current() will say so; the next poll tries again
      } finally {
        this.pulling = undefined;
      }
    })();
    return this.pulling;
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ ...this.o.config, keepAlive: true });
    c.on('error', () => undefined);
    c.on('end', () => {
      if (this.listener === c) this.listener = undefined;
      this.reconnectLater();
    });
    c.on('notification', () => {
      this.notified++;
      void this.pull();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    if (this.stopped) return void (await c.end());
    this.listener = c;
    // Whatever was notified while no one listened is in the table: catch up now.
    void this.pull();
  }

  private reconnectLater(): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen().catch(() => this.reconnectLater());
    }, this.reconnectMs).unref();
  }
}
