import { openCheckpoint, signCheckpoint } from './audit-checkpoint.js';
import { GENESIS, hashOf } from './audit.js';
import type { Core } from './context.js';
import type { AuditCheckpoint, AuditRecord } from './ports.js';

/**
 * Retention: what an operator of a busy identity service expects — the database stops growing
 * once history is older than the age they chose. Two ages:
 *
 * - `tasksMs`: a task and its trajectory events go this long after the task expired (every task
 *   expires, so by then it has ended whatever its status). The events are a working copy for the
 *   rules (whose windows are minutes to a day); every decision they show is also in the audit log.
 * - `auditMs`: audit records older than this are cut from the bottom of the chain. Before any
 *   record goes, a checkpoint signed by the broker's key names the last record cut and its hash
 *   (core/audit-checkpoint.ts), and `stint audit verify` starts from the newest checkpoint.
 *
 * `0` keeps for ever. Defaults (docs/settings.md): tasks 30 days, audit 365 days — a year is the
 * floor most audit regimes ask for (PCI DSS 10.5.1, common SOC 2 practice), and with any default
 * at all the database is bounded under a steady load instead of filling the disk, which would
 * make the broker fail closed for everyone.
 */
export interface RetentionOptions {
  tasksMs: number;
  auditMs: number;
  /**
   * Where cut records go before they are deleted (Node: JSON lines files, STINT_AUDIT_ARCHIVE_DIR).
   * Called with each cut and its checkpoint before the checkpoint is stored; if it throws,
   * nothing is cut: a record is never deleted unarchived.
   */
  archive?: (records: AuditRecord[], checkpoint: AuditCheckpoint) => Promise<void>;
}
export const DAY_MS = 24 * 3600 * 1000;
export const DEFAULT_RETENTION: RetentionOptions = { tasksMs: 30 * DAY_MS, auditMs: 365 * DAY_MS };

/** Rows per delete, as in purge.ts: ≈20 µs a row, so one delete holds the writer ≈1.5 ms. */
const BATCH = 64;
/** Steps per round at most. */
const STEPS = 8;
/** Records one checkpoint may cover at most (read as one page). */
const CUT_MAX = 256;
/** A smaller cut waits until the last checkpoint is this old: a few records a round would mean a signature and a row a round. */
const CUT_EVERY_MS = 60_000;
/** Checkpoints kept: only the newest is needed; a few older ones let an auditor match an export taken earlier. */
const KEEP_CHECKPOINTS = 16;

/**
 * One round of retention: a few steps, each one small delete of expired tasks' rows and one step
 * of the audit cut (delete below the newest checkpoint, or make the next checkpoint). Throws when
 * the audit cut cannot go on (a checkpoint or a segment that does not verify, an archive that
 * fails), having deleted nothing it should not have. Returns how many rows
 * went, so a Cron Trigger repeats while there is work. Safe on several nodes at once: deletes are
 * of rows every node agrees are gone, and two checkpoints of one cut are the same row.
 */
export async function retentionRound(core: Pick<Core, 'store' | 'clock' | 'keys' | 'issuer'>, o: RetentionOptions = DEFAULT_RETENTION): Promise<number> {
  const archive = o.archive;
  const now = core.clock.now();
  let total = 0;
  // Up to STEPS small steps, a turn of the event loop between them (as purge.ts): at Node's
  // 100 ms rounds that is ≈5,000 rows a second, above what a busy broker appends.
  for (let i = 0; i < STEPS; i++) {
    let n = 0;
    if (o.tasksMs > 0) n += await core.store.tasks.pruneExpired(now - o.tasksMs, BATCH);
    if (o.auditMs > 0) n += await cutAudit(core, now - o.auditMs, now, archive);
    total += n;
    if (n === 0) break;
    await new Promise((r) => setTimeout(r, 0));
  }
  return total;
}

/** The last checkpoint checked here, by its columns and JWS (one verification per new checkpoint, not per round). */
const trusted = new WeakMap<object, string>();

async function cutAudit(core: Pick<Core, 'store' | 'keys' | 'issuer'>, before: number, now: number, archive: RetentionOptions['archive']): Promise<number> {
  const audit = core.store.audit;
  const cp = await audit.checkpoint();
  // A checkpoint row someone wrote into the database must not make retention delete records:
  // only a checkpoint signed by this broker's key is acted on. A bad one stops retention (and
  // fails `stint audit verify`) until an operator looks.
  if (cp && !(await isTrusted(core, cp))) throw new Error(`the newest audit checkpoint (record ${cp.seq}) does not verify under the broker's keys: run stint audit verify`);
  if (cp) {
    const gone = await audit.prune(cp.seq, BATCH);
    if (gone > 0) return gone;
  }
  // The oldest record first (one row): on most rounds it is young enough and nothing more is read.
  const [oldest] = await audit.list(cp?.seq ?? 0, 1);
  if (!oldest || oldest.at >= before) return 0;
  const page = await audit.list(cp?.seq ?? 0, CUT_MAX + 1);
  // The newest record always stays: it is the head the next append links to (audit.ts reads it).
  const candidates = page.slice(0, Math.min(CUT_MAX, page.length - 1));
  // Only records old enough, and only a segment that verifies: the checkpoint vouches for the
  // chain up to its record, so a gap or an edit below it must be found now, not signed over.
  let prev = cp?.hash ?? GENESIS;
  let seq = cp?.seq ?? 0;
  let cut = -1;
  for (let i = 0; i < candidates.length; i++) {
    const r = candidates[i]!;
    if (r.at >= before || r.seq !== seq + 1 || r.prevHash !== prev || (await hashOf(r)) !== r.hash) break;
    prev = r.hash;
    seq = r.seq;
    cut = i;
  }
  if (cut < 0) {
    const first = candidates[0];
    if (first && first.at < before) throw new Error(`the audit chain does not verify at record ${seq + 1}: run stint audit verify`);
    return 0;
  }
  if (cut + 1 < CUT_MAX && cp && now - cp.at < CUT_EVERY_MS) return 0;
  const last = candidates[cut]!;
  const checkpoint = await signCheckpoint(core.keys, core.issuer, last, now);
  // Archived, then signed and stored, before a single record goes: a crash in between leaves
  // records the checkpoint covers, which verification skips and the next round deletes (an
  // archive may then hold a cut twice: lines carry their seq).
  if (archive) await archive(candidates.slice(0, cut + 1), checkpoint);
  await audit.addCheckpoint(checkpoint, KEEP_CHECKPOINTS);
  return (await audit.prune(last.seq, BATCH)) || 1;
}

async function isTrusted(core: Pick<Core, 'store' | 'keys'>, cp: AuditCheckpoint): Promise<boolean> {
  const key = `${cp.seq}\n${cp.hash}\n${cp.jws}`;
  if (trusted.get(core.store) === key) return true;
  const opened = await openCheckpoint(core.keys, cp);
  if (opened.ok) trusted.set(core.store, key);
  return opened.ok;
}
