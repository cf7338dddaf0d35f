/** Streams one client may hold open at once (a verifier needs one; a restart briefly two). */
export const MAX_STREAMS_PER_CLIENT = 8;

/**
 * Open event streams counted per client, where the streams are served: the broker process on
 * Node, the event hub Durable Object on Workers (one instance serves every stream there, so its
 * count is global, not per isolate; if the object is evicted, its streams went with it).
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly max = MAX_STREAMS_PER_CLIENT) {}

  /** A slot for one more stream of `client`, released by the returned function (once), or undefined when it holds `max`. */
  take(client: string): (() => void) | undefined {
    const n = this.open.get(client) ?? 0;
    if (n >= this.max) return undefined;
    this.open.set(client, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(client) ?? 1) - 1;
      if (left > 0) this.open.set(client, left);
      else this.open.delete(client);
    };
  }

  held(client: string): number {
    return this.open.get(client) ?? 0;
  }
}
