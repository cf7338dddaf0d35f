import { scopeKey, scopesOf } from '../core/scope.js';
import { coveredBy } from '../core/token-state.js';

/** What a verifier needs of a token to decide whether it was revoked. */
export interface RevocableClaims {
  jti: string;
  sub: string;
  env: string;
  iat: number;
  task_id: string;
  task_opened_ms?: number;
}

interface BrokerEvent {
  id?: number;
  type: string;
  task_id?: string | null;
  jti?: string;
  token_use?: string;
  scope?: string;
  epoch?: number;
}

/** Entries are kept this long after they were heard: longer than any token stint issues lives. */
const RETAIN_MS = 2 * 3600_000;

/**
 * The verifier's local copy of the broker's revocations, fed by its event stream: dead tasks,
 * dead token ids and scope epochs. Checking a token is three map lookups.
 */
export class RevocationView {
  private readonly deadTasks = new Map<string, number>();
  private readonly deadJtis = new Map<string, number>();
  private readonly epochs = new Map<string, number>();
  lastEventId = 0;

  apply(e: BrokerEvent, now: number): void {
    if (typeof e.id === 'number') this.lastEventId = Math.max(this.lastEventId, e.id);
    switch (e.type) {
      case 'task.stopped':
      case 'task.revoked':
      case 'task.completed':
        if (e.task_id) this.deadTasks.set(e.task_id, now);
        break;
      case 'token.revoked':
        if (e.jti) this.deadJtis.set(e.jti, now);
        if (e.token_use === 'task' && e.task_id) this.deadTasks.set(e.task_id, now);
        break;
      case 'scope.revoked':
        if (e.scope && typeof e.epoch === 'number') this.epochs.set(e.scope, Math.max(this.epochs.get(e.scope) ?? 0, e.epoch));
        break;
    }
  }

  isRevoked(c: RevocableClaims): boolean {
    if (this.deadJtis.has(c.jti) || this.deadTasks.has(c.task_id)) return true;
    const epoch = Math.max(0, ...scopesOf(c.sub, c.env).map((s) => this.epochs.get(scopeKey(s)) ?? 0));
    return coveredBy(c.iat, epoch, c.task_opened_ms);
  }

  /** Forgets entries older than any token they could concern. */
  prune(now: number): void {
    for (const m of [this.deadTasks, this.deadJtis]) for (const [k, at] of m) if (now - at > RETAIN_MS) m.delete(k);
  }
}
