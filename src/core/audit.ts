import { openCheckpoint } from './audit-checkpoint.js';
import { capRecord } from './cap.js';
import { canonicalJson, sha256 } from './encoding.js';
import { unavailable } from './errors.js';
import type { KeyRing } from './keys.js';
import { nullBus, type AuditRecord, type Clock, type EventBus, type Store } from './ports.js';

export interface AuditInput {
  type: string;
  actor: string;
  taskId?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditVerification {
  ok: boolean;
  count: number;
  /** The first record whose hash or link does not hold. */
  brokenAt?: number;
  reason?: string;
  head?: string;
  /** Where the check started when the log was cut by retention: the signed checkpoint's record. */
  checkpoint?: { seq: number; hash: string; at: string };
}

export const GENESIS = 'genesis';

/** A record's chain hash: its content and the previous record's hash. */
export async function hashOf(r: Omit<AuditRecord, 'hash'>): Promise<string> {
  const body = canonicalJson({ seq: r.seq, at: r.at, type: r.type, actor: r.actor, task_id: r.taskId, data: r.data });
  return sha256(`${r.prevHash}\n${body}`);
}

/**
 * Writers in other processes (brokers on one PostgreSQL) can take the next `seq` first. Each lost
 * race means another writer won, so the log always moves; a short, jittered wait before re-reading
 * keeps N nodes appending at once from losing to each other in lockstep. 20 attempts with waits
 * capped at 25 ms bound one append's wait to ≈ 0.4 s before it fails closed.
 */
const APPEND_ATTEMPTS = 20;
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(25, 2 ** attempt)));

/**
 * The append-only, hash-chained log of every decision. Each record's hash covers its content
 * and the previous record's hash, so editing, removing or reordering any record breaks every
 * hash after it. Appends in one process are serialised; a writer in another process that takes
 * the same `seq` first is detected by the store (`append` returns false) and we re-read the head.
 * The bus hears of a record only after the store has committed it.
 */
export class AuditLog {
  private head: { seq: number; hash: string } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Told of every record once it is durable, in order. */
    private readonly bus: EventBus = nullBus,
    /** The broker's keys: they sign retention's checkpoints, and verification checks them. */
    private readonly keys?: KeyRing,
  ) {}

  /** Forgets the cached head (after the store rolled back writes it had seen). */
  reset(): void {
    this.head = undefined;
  }

  /** Appends one record; throws `temporarily_unavailable` if it cannot be written. */
  append(input: AuditInput): Promise<AuditRecord> {
    const run = this.queue.then(() => this.write(input));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(input: AuditInput): Promise<AuditRecord> {
    try {
      for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
        if (attempt > 0) await backoff(attempt);
        if (!this.head) {
          const last = (await this.store.audit.last()) ?? (await this.store.audit.checkpoint());
          this.head = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS };
        }
        const base = {
          seq: this.head.seq + 1,
          at: this.clock.now(),
          type: input.type,
          actor: input.actor,
          taskId: input.taskId ?? null,
          data: capRecord(input.data ?? {}),
          prevHash: this.head.hash,
        };
        const record: AuditRecord = { ...base, hash: await hashOf(base) };
        if (await this.store.audit.append(record)) {
          this.head = { seq: record.seq, hash: record.hash };
          // Published once durable, never before: a group commit that rolls back would hand
          // this seq to another record, and a verifier that heard of this one would skip that.
          // Flushes resolve in the order they were asked for, so publishes keep audit order.
          // A flush that fails may have lost this commit (PostgreSQL's asynchronous commit and a
          // server crash): the cached head would then name a record that no longer exists and the
          // next append would link to it, a hole in the chain for ever. Re-read the head instead.
          this.store.flush().then(
            () => this.bus.publish(record),
            () => void (this.head = undefined),
          );
          return record;
        }
        this.head = undefined; // someone else wrote this seq: re-read and retry
      }
      throw new Error('audit head kept moving');
    } catch (e) {
      this.head = undefined;
      throw unavailable('the audit log', e);
    }
  }

  /**
   * Re-computes the chain: from the first record, or, once retention has cut the log, from the
   * newest checkpoint, whose signature must hold under one of the broker's keys. Records at or
   * below the checkpoint that are not yet deleted are not read.
   */
  async verify(pageSize = 1000): Promise<AuditVerification> {
    let prev = GENESIS;
    let expectedSeq = 1;
    let count = 0;
    let from: AuditVerification['checkpoint'];
    const cp = await this.store.audit.checkpoint();
    if (cp) {
      const opened = this.keys ? await openCheckpoint(this.keys, cp) : ({ ok: false, reason: 'no key to check the checkpoint with' } as const);
      if (!opened.ok) return { ok: false, count, brokenAt: cp.seq, reason: opened.reason };
      prev = opened.claims.hash;
      expectedSeq = opened.claims.seq + 1;
      from = { seq: opened.claims.seq, hash: opened.claims.hash, at: new Date(opened.claims.record_at).toISOString() };
    }
    const done = (): AuditVerification => ({ ok: true, count, head: prev, ...(from ? { checkpoint: from } : {}) });
    for (;;) {
      const page = await this.store.audit.list(expectedSeq - 1, pageSize);
      for (const r of page) {
        if (r.seq !== expectedSeq) return { ok: false, count, brokenAt: expectedSeq, reason: `record ${expectedSeq} is missing` };
        if (r.prevHash !== prev) return { ok: false, count, brokenAt: r.seq, reason: 'link to the previous record does not match' };
        if ((await hashOf(r)) !== r.hash) return { ok: false, count, brokenAt: r.seq, reason: 'record content does not match its hash' };
        prev = r.hash;
        expectedSeq++;
        count++;
      }
      if (page.length < pageSize) return done();
    }
  }
}
