import type { Policy } from './policy.js';
import { SCOPE_KEY } from './scope.js';
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

/**
 * What a pushed event carries: what a verifier needs to kill tokens (ids, scope, epoch) and to
 * tell whether an event concerns it (agent, environment), with a reason as a code (the stopping
 * rule, `leaked`, …). Never the record's detail: no fingerprint, no tool, no free text; every
 * resource service and SET receiver hears these, the audit log keeps the rest.
 */
const PUSHED_FIELDS = ['jti', 'token_use', 'scope', 'epoch', 'revoked_before', 'agent', 'environment', 'exp', 'rule'] as const;

function reasonCode(r: AuditRecord): string {
  if (r.type === 'task.stopped' && typeof r.data.rule === 'string') return r.data.rule;
  if (typeof r.data.reason === 'string' && r.data.reason.startsWith('leaked')) return 'leaked';
  return ({ 'task.completed': 'completed', 'agent.locked': 'agent_locked', 'task.stopped': 'stopped' } as Record<string, string>)[r.type] ?? 'revoked';
}

export const toVerifierEvent = (r: AuditRecord): VerifierEvent => {
  const e: VerifierEvent = { id: r.seq, type: r.type, at: r.at, task_id: r.taskId };
  for (const k of PUSHED_FIELDS) {
    const v = r.data[k];
    if (typeof v === 'string' || typeof v === 'number') e[k] = v;
  }
  e.reason = reasonCode(r);
  return e;
};

/**
 * The events one subscriber hears: a resource service or SET receiver whose audience serves one
 * environment (told as everywhere: policy `hosts`, resource URIs) hears that environment's events
 * and those that name none (an agent lock, `all`, an agent's scope), never another environment's.
 * Its tokens' audiences are its own, so nothing it verifies is concerned by the others. An
 * audience no single environment claims hears everything (it cannot be told).
 */
export function eventsFor(servedEnvironment: string | undefined): (e: VerifierEvent) => boolean {
  if (servedEnvironment === undefined) return () => true;
  return (e) => {
    if (typeof e.environment === 'string' && e.environment !== servedEnvironment) return false;
    if (typeof e.scope === 'string' && e.scope.startsWith(SCOPE_KEY.environment) && e.scope !== SCOPE_KEY.environment + servedEnvironment) return false;
    return true;
  };
}

/**
 * `prev` is the id of the pushed event this hub published just before, when the hub knows it (a
 * hub fed in audit order by its own process); a stream that has sent everything up to `prev`
 * may send the event at once, any other must read the gap back from the log first.
 */
type Listener = (e: VerifierEvent, prev?: number) => void;

/**
 * The event fan-out port: how every node's pushed events reach every node's `/v1/events`
 * streams, in audit order. `publish` is told of each durable record this node wrote (in audit
 * order); `subscribe` hands pushed events, from every node, to a stream, with `prev` when the
 * fan-out can vouch that nothing pushed came between (the stream reads any gap back from the
 * log, so a fan-out may lose or repeat events without a stream missing one).
 * Implementations: the in-process `EventHub` (one node), the Durable Object hub (Workers:
 * runtime/cloudflare/event-hub.ts, reached over its fetch API), PostgreSQL
 * (adapters/postgres/fanout.ts: the audit table tailed, woken by LISTEN/NOTIFY).
 */
export interface EventFanout extends EventBus {
  subscribe(listener: Listener): () => void;
}

/** Fans pushed events out to live subscribers, in audit order. */
export class EventHub implements EventFanout {
  private readonly listeners = new Set<Listener>();
  /** The last seq this hub was told of; no pushed record lies in (vouchedFrom, lastSeq]. */
  private lastSeq: number | undefined;
  private vouchedFrom = 0;

  /**
   * Told of every durable record in audit order (the audit log publishes only after commit).
   * It vouches for `prev` (no pushed record between it and this one) only over seqs it has seen
   * itself: after a seq it never heard of (another process writing the same log, a publish
   * lost), it vouches from there on, and a stream behind that point reads the log.
   */
  publish(record: AuditRecord): void {
    if (this.lastSeq === undefined || record.seq !== this.lastSeq + 1) this.vouchedFrom = record.seq - 1;
    this.lastSeq = record.seq;
    if (!PUSHED_TYPES.has(record.type)) return;
    const prev = this.vouchedFrom;
    this.vouchedFrom = record.seq;
    this.deliver(toVerifierEvent(record), prev);
  }

  /** Hands an already-converted event to the listeners (a hub fed by other processes: no `prev`). */
  deliver(event: VerifierEvent, prev?: number): void {
    for (const l of this.listeners) {
      try {
        l(event, prev);
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
  for await (const page of backlogPages(store, afterSeq, pageSize)) out.push(...page.events);
  return out;
}

/**
 * The same, a page at a time, so a stream can send a long backlog without holding it: each page
 * gives its pushed events and the last audit seq it covered. Only pushed records are read
 * (`audit.listPushed`, indexed), so a backlog costs the revocations and stops in it, not every
 * token issued meanwhile: 200 verifiers reconnecting over a window of 20,000 issuances stalled
 * minting for seconds when each stream read the whole window. `upTo` is a seq known committed
 * when the call is made (the head, or a live event's id): every seq before it is committed too
 * (the chain), so a short page covers at least up to `upTo - 1`; `upTo` itself only if it was
 * read (a live event not yet readable where we looked is sent by the stream itself).
 */
export async function* backlogPages(store: Store, afterSeq: number, pageSize = 1000, upTo?: number): AsyncGenerator<{ events: VerifierEvent[]; lastSeq: number }> {
  for (let after = afterSeq; ; ) {
    const page = await store.audit.listPushed(after, pageSize);
    const full = page.length === pageSize;
    const lastRead = page.length ? page[page.length - 1]!.seq : after;
    // A short page saw every pushed record committed before the read: all of those before `upTo`.
    const lastSeq = full || upTo === undefined || !Number.isFinite(upTo) ? lastRead : Math.max(lastRead, upTo - 1);
    if (page.length === 0 && lastSeq === after) return;
    after = lastSeq;
    yield { events: page.map(toVerifierEvent), lastSeq };
    if (!full) return;
  }
}

/**
 * The longest any token stint issues can live, seconds: a task token (an environment's task TTL),
 * a capability token (its cap), an approval grant (60 s); plus a minute for clocks. A revocation
 * older than this concerns only expired tokens, so a fresh verifier need not hear of it.
 */
export function longestTokenLifetime(policy: Policy): number {
  let longest = 60;
  for (const e of Object.values(policy.environments)) longest = Math.max(longest, e.taskTtl, e.maxTokenTtl);
  for (const t of Object.values(policy.templates)) longest = Math.max(longest, t.taskTtl ?? 0);
  return longest + 60;
}

/**
 * The audit seq to resume after so as to hear every record written at or after `since` (ms):
 * the last record before it, found by bisection over the log (seqs are dense and `at` grows
 * with them; a record out of order by a clock step errs toward sending more).
 */
export async function seqBefore(store: Store, since: number): Promise<number> {
  const head = (await store.audit.last())?.seq ?? 0;
  // Records below the first one left were pruned by retention (far older than any token), so the
  // search starts there: bisecting over the gap would end at its bottom and resend everything kept.
  const first = (await store.audit.list(0, 1))[0]?.seq ?? 1;
  let lo = first - 1; // every record ≤ lo is before `since` (0: none)
  let hi = head; // answer ≤ hi
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const [r] = await store.audit.list(mid - 1, 1);
    if (r && r.seq === mid && r.at < since) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
