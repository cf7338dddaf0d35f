import type { AuditRecord, EventBus, Store } from './ports.js';

/** Audit record types that verifiers must hear about: each one ends the life of some tokens. */
export const PUSHED_TYPES = new Set(['task.stopped', 'task.revoked', 'task.completed', 'token.revoked', 'scope.revoked', 'agent.locked']);

export interface VerifierEvent {
  id: number;
  type: string;
  at: number;
  task_id: string | null;
  [k: string]: unknown;
}

export const toVerifierEvent = (r: AuditRecord): VerifierEvent => ({ ...r.data, id: r.seq, type: r.type, at: r.at, task_id: r.taskId });

type Listener = (e: VerifierEvent) => void;

/** Fans pushed events out to live subscribers, in audit order. */
export class EventHub implements EventBus {
  private readonly listeners = new Set<Listener>();

  publish(record: AuditRecord): void {
    if (PUSHED_TYPES.has(record.type)) this.deliver(toVerifierEvent(record));
  }

  /** Hands an already-converted event to the listeners (a hub fed by other processes). */
  deliver(event: VerifierEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // one broken subscriber must not stop the others
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

/** Pushed events after `afterSeq`, read back from the audit log (resumption). */
export async function backlog(store: Store, afterSeq: number, pageSize = 1000): Promise<VerifierEvent[]> {
  const out: VerifierEvent[] = [];
  for (let after = afterSeq; ; ) {
    const page = await store.audit.list(after, pageSize);
    for (const r of page) if (PUSHED_TYPES.has(r.type)) out.push(toVerifierEvent(r));
    if (page.length < pageSize) return out;
    after = page[page.length - 1]!.seq;
  }
}
