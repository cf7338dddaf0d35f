/** Event stream set-ups in progress at once; the others wait their turn (issue 23). */
export const STREAM_SETUPS_AT_ONCE = 2;
/** Set-ups that may wait; past this a verifier is told to come back (503, `Retry-After`). */
export const MAX_WAITING_SETUPS = 1024;
/**
 * A set-up lets the next one in after this long even if its `stream.open` is not out: what it
 * waits on then is its client reading (backpressure), not this thread, and a client that does
 * not read must not hold everyone's turn.
 */
export const SETUP_HOLD_MAX_MS = 1000;

/** Runs `f` on a later turn of the event loop, after the I/O already waiting (Node: setImmediate). */
export const nextTurn: (f: () => void) => void = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate ?? ((f) => setTimeout(f, 0));

/** Released once, when the stream has sent `stream.open` (or failed or ended before it). */
export type Admitted = () => void;

/**
 * Admission of event stream set-ups on a broker that serves streams on its own thread. After a
 * restart every verifier reconnects at once, and each set-up (the SSE response, the head, the
 * backlog, `stream.open`) costs the thread a millisecond or two: 200 of them run back to back
 * held minting for a third of a second. So only a few set up at a time and each next one is let
 * in on a later turn of the event loop (`setImmediate`), so that requests already waiting (token
 * exchanges) run in between. The waiting ones hold a promise and their request, nothing else;
 * their number is bounded.
 */
export class StreamAdmission {
  private active = 0;
  /** Set-ups started in this turn of the event loop. */
  private startedThisTurn = 0;
  /** In arrival order; an entry leaves when admitted or when its client goes away. */
  private readonly waiting = new Set<() => void>();
  private scheduled = false;

  constructor(
    private readonly atOnce = STREAM_SETUPS_AT_ONCE,
    private readonly maxWaiting = MAX_WAITING_SETUPS,
    private readonly holdMaxMs = SETUP_HOLD_MAX_MS,
  ) {}

  /**
   * A release function at once when a set-up may start now; otherwise a promise of one, which
   * resolves to undefined if the request's signal aborts first (the client went away: it held
   * nothing, and frees only its place in the line). `'full'` when the line is at its bound.
   * The signal is asked for only to wait (on Node, reading it builds the whole request).
   */
  admit(signalOf?: () => AbortSignal | undefined): Admitted | Promise<Admitted | undefined> | 'full' {
    if (this.waiting.size === 0 && this.free()) return this.take();
    if (this.waiting.size >= this.maxWaiting) return 'full';
    const signal = signalOf?.();
    return new Promise<Admitted | undefined>((resolve) => {
      const onAbort = () => {
        this.waiting.delete(turn);
        resolve(undefined);
      };
      const turn = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.take());
      };
      if (signal?.aborted) return resolve(undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(turn);
    });
  }

  /** Set-ups in progress, and waiting. */
  get counts(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.size };
  }

  /**
   * Both bounds: set-ups in progress (some wait on the store) and set-ups started in this turn
   * (most run to `stream.open` without giving the loop back, so a count in progress alone would
   * let every request read in one poll of the sockets set up at once).
   */
  private free(): boolean {
    return this.active < this.atOnce && this.startedThisTurn < this.atOnce;
  }

  private take(): Admitted {
    this.active++;
    if (this.startedThisTurn++ === 0) this.schedule(true);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.active--;
      this.schedule();
    };
    const timer = setTimeout(release, this.holdMaxMs);
    (timer as { unref?: () => void }).unref?.();
    return release;
  }

  private schedule(newTurn = false): void {
    if (this.scheduled || (!newTurn && this.waiting.size === 0)) return;
    this.scheduled = true;
    nextTurn(() => {
      this.scheduled = false;
      this.startedThisTurn = 0;
      for (const turn of this.waiting) {
        if (!this.free()) break;
        this.waiting.delete(turn);
        turn();
      }
    });
  }
}
