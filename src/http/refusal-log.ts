import type { AuditInput } from '../core/audit.js';

/**
 * Refusals that come before the client is authenticated are not evidence against anyone (the
 * client id is only what the request claimed), and anyone can send them: recorded one by one
 * they would let a stranger grow the hash-chained log at will. They are counted instead, per
 * refusal code and source address per interval, and written as one `token.refused.aggregate`
 * record per (code, source) with the first request's fields as a truncated sample. Counts of an
 * interval that has not ended yet are lost on a crash; that is the trade.
 */
export interface RefusalLogOptions {
  /** Length of one counting interval, ms (default one minute). */
  intervalMs?: number;
  /** Distinct (code, source) pairs counted per interval; the rest are counted under source `other`. */
  maxKeys?: number;
}

const SAMPLE_CHARS = 100;
export const truncate = (v: unknown, max = SAMPLE_CHARS): string | null =>
  v === undefined || v === null ? null : String(v).length > max ? `${String(v).slice(0, max)}…` : String(v);

interface Bucket {
  error: string;
  source: string;
  count: number;
  first: number;
  last: number;
  sample: Record<string, string | null>;
}

export class RefusalLog {
  private buckets = new Map<string, Bucket>();
  private windowStart: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A flush started by `note()`, so that `flushDue()` can hand it to a runtime that keeps it alive. */
  private inFlight: Promise<void> | undefined;
  private readonly interval: number;
  private readonly maxKeys: number;

  constructor(
    private readonly append: (input: AuditInput) => Promise<unknown>,
    private readonly now: () => number,
    o: RefusalLogOptions = {},
  ) {
    this.interval = o.intervalMs ?? 60_000;
    this.maxKeys = o.maxKeys ?? 1_000;
  }

  /** Counts one refusal; writes the previous interval's counts if it has ended. */
  note(error: string, source: string, sample: Record<string, unknown>): void {
    const now = this.now();
    if (this.windowStart !== undefined && now - this.windowStart >= this.interval) this.inFlight = this.flush();
    this.windowStart ??= now;
    let key = `${error}\n${source}`;
    if (!this.buckets.has(key) && this.buckets.size >= this.maxKeys) {
      source = 'other';
      key = `${error}\nother`;
    }
    const b = this.buckets.get(key);
    if (b) {
      b.count++;
      b.last = now;
    } else {
      const s: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(sample).slice(0, 8)) s[truncate(k, 40)!] = truncate(v);
      this.buckets.set(key, { error: truncate(error, 60)!, source: truncate(source, 60)!, count: 1, first: now, last: now, sample: s });
      // Written when the interval ends even if no other refusal comes (best effort on Workers).
      this.timer ??= unrefTimer(() => void this.flush(), this.interval);
    }
  }

  /** Writes one aggregate record per (code, source) counted so far and starts a new interval. */
  async flush(): Promise<void> {
    const buckets = [...this.buckets.values()];
    this.buckets = new Map();
    this.windowStart = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const b of buckets) {
      await this.append({
        type: 'token.refused.aggregate',
        actor: 'token-endpoint',
        data: { error: b.error, source: b.source, count: b.count, first_at: b.first, last_at: b.last, sample: b.sample },
      }).catch(() => undefined);
    }
  }

  /**
   * Writes the counts if their interval has ended, and waits for a flush already under way. On
   * Workers, where a timer outside a request may never fire and work not handed to `waitUntil`
   * may be cut off, the runtime calls this after each answer and keeps it alive with `waitUntil`.
   */
  async flushDue(): Promise<void> {
    const running = this.inFlight;
    this.inFlight = undefined;
    if (this.windowStart !== undefined && this.now() - this.windowStart >= this.interval) await this.flush();
    await running;
  }

  get pending(): number {
    return this.buckets.size;
  }
}

function unrefTimer(f: () => void, ms: number) {
  const t = setTimeout(f, ms);
  (t as { unref?: () => void }).unref?.();
  return t;
}
