import { GENESIS, hashOf } from './audit.js';
import { openCheckpoint } from './audit-checkpoint.js';
import type { KeyRing } from './keys.js';

/**
 * Checks retention's archive offline (`stint audit verify-archive`): the lines of one or more
 * `audit-YYYY-MM.jsonl` files, in order — records as `GET /v1/audit` shows them, and
 * `{"checkpoint": …}` lines. Every record must link to the one before (the first to the genesis,
 * or to `from`, the hash of the record before the archive starts), every hash must recompute,
 * and each checkpoint must name the record just before it and carry the broker's signature.
 * A cut archived twice (a crash between archiving and deleting) repeats identical lines: a
 * record already seen with the same hash is skipped.
 */
export interface ArchiveCheck {
  ok: boolean;
  records: number;
  checkpoints: number;
  first?: number;
  last?: number;
  head?: string;
  /** The line (1-based, across the input) where the check failed, and why. */
  brokenAt?: number;
  reason?: string;
}

export async function checkArchive(lines: string[], keys: Pick<KeyRing, 'publicKey'>, from = GENESIS): Promise<ArchiveCheck> {
  let prev = from;
  let seq: number | undefined;
  let records = 0;
  let checkpoints = 0;
  let first: number | undefined;
  const seen = new Map<number, string>();
  const broken = (line: number, reason: string): ArchiveCheck => ({ ok: false, records, checkpoints, first, last: seq, brokenAt: line, reason });
  for (const [i, text] of lines.entries()) {
    if (!text.trim()) continue;
    let v: any;
    try {
      v = JSON.parse(text);
    } catch {
      return broken(i + 1, 'not a JSON line');
    }
    if (v && typeof v === 'object' && v.checkpoint) {
      const c = v.checkpoint;
      if (seq === undefined || c.seq !== seq || c.hash !== prev) return broken(i + 1, 'the checkpoint does not name the record before it');
      const opened = await openCheckpoint(keys, { seq: c.seq, hash: c.hash, at: Date.parse(c.at), jws: String(c.jws) });
      if (!opened.ok) return broken(i + 1, opened.reason);
      checkpoints++;
      continue;
    }
    if (!v || typeof v.seq !== 'number') return broken(i + 1, 'neither a record nor a checkpoint');
    if (seen.get(v.seq) === v.hash) continue; // the same cut archived again
    if (seq !== undefined && v.seq !== seq + 1) return broken(i + 1, `record ${seq + 1} is missing`);
    const r = { seq: v.seq, at: Date.parse(v.at), type: v.type, actor: v.actor, taskId: v.task_id ?? null, data: v.data ?? {}, prevHash: v.prev_hash };
    if (r.prevHash !== prev) return broken(i + 1, 'link to the previous record does not match');
    if ((await hashOf(r)) !== v.hash) return broken(i + 1, 'record content does not match its hash');
    first ??= v.seq;
    seq = v.seq;
    prev = v.hash;
    seen.set(v.seq, v.hash);
    // A repeat is at most one cut (256 records) back: remember about that many.
    if (seen.size > 1024) seen.delete(seen.keys().next().value!);
    records++;
  }
  return { ok: true, records, checkpoints, first, last: seq, head: prev };
}
