/** Event stream set-ups in progress at once; the others wait their turn (issue 23). */
export const STREAM_SETUPS_AT_ONCE = 2;
/** Set-ups that may wait; past this a verifier is told to come back (503, `Retry-After`). */
export const MAX_WAITING_SETUPS = 1024;
/**
 * Stream requests let on to authentication per turn of the event loop. Node reads every request
 * that arrived in one poll of the sockets in one go: 200 verifiers reconnecting at once were 90
 * requests authenticated back to back (30 ms of the thread) before a token request read in the
 * same poll got its turn.
 */
export const ARRIVALS_PER_TURN = 4;
/** Stream requests that may wait to be authenticated; past this, 503 with `Retry-After`. */
export const MAX_ARRIVING = 4096;
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
/** Calls `onGone` if the client goes away; returns what stops watching. */
export type WatchClient = (onGone: () => void) => () => void;
/** What a runtime may put in the app's env to watch a client its own, cheaper way. */
export interface ClientWatchSource {
  watchClient?: WatchClient;
}

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
  /** Arrivals let on in this turn of the event loop, and those waiting (in order) for a later one. */
  private arrivedThisTurn = 0;
  private readonly arriving: (() => void)[] = [];
  private arrivalsScheduled = false;
  /** Set-ups started in this turn of the event loop. */
  private startedThisTurn = 0;
  /** In arrival order; an entry leaves when admitted or when its client goes away. */
  private readonly waiting = new Set<() => void>();
  private scheduled = false;

  constructor(
    private readonly atOnce = STREAM_SETUPS_AT_ONCE,
    private readonly maxWaiting = MAX_WAITING_SETUPS,
    private readonly holdMaxMs = SETUP_HOLD_MAX_MS,
    private readonly arrivalsPerTurn = ARRIVALS_PER_TURN,
    private readonly maxArriving = MAX_ARRIVING,
  ) {}

  /**
   * The first step of a stream request, before anything is read or checked: undefined to go on
   * now, a promise to go on in a later turn (a few per turn, in arrival order), `'full'` when the
   * line is at its bound. Unauthenticated requests stand in this line too, but it only orders
   * work that each request would cost anyway: its place is given up as soon as its turn comes
   * (and a refused credential costs microseconds), so it cannot be held to keep a verifier out.
   */
  arrive(): Promise<void> | undefined | 'full' {
    if (this.arriving.length === 0 && this.arrivedThisTurn < this.arrivalsPerTurn) {
      if (this.arrivedThisTurn++ === 0) this.scheduleArrivals();
      return undefined;
    }
    if (this.arriving.length >= this.maxArriving) return 'full';
    const p = new Promise<void>((resolve) => this.arriving.push(resolve));
    this.scheduleArrivals();
    return p;
  }

  private scheduleArrivals(): void {
    if (this.arrivalsScheduled) return;
    this.arrivalsScheduled = true;
    nextTurn(() => {
      this.arrivalsScheduled = false;
      this.arrivedThisTurn = 0;
      const now = this.arriving.splice(0, this.arrivalsPerTurn);
      this.arrivedThisTurn = now.length;
      for (const go of now) go();
      if (now.length > 0) this.scheduleArrivals();
    });
  }

  /**
   * A release function at once when a set-up may start now; otherwise a promise of one, which
   * resolves to undefined if `watch` says the client went away first (it held nothing, and
   * frees only its place in the line). `'full'` when the line is at its bound. The client is
   * watched only while it waits.
   */
  admit(watch?: WatchClient): Admitted | Promise<Admitted | undefined> | 'full' {
    if (this.waiting.size === 0 && this.free()) return this.take();
    if (this.waiting.size >= this.maxWaiting) return 'full';
    return new Promise<Admitted | undefined>((resolve) => {
      let gone = false;
      const turn = () => {
        unwatch?.();
        resolve(this.take());
      };
      const unwatch = watch?.(() => {
        gone = true;
        this.waiting.delete(turn);
        resolve(undefined);
      });
      if (!gone) this.waiting.add(turn);
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
