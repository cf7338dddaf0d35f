import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditCheckpoint, AuditRecord } from '../core/ports.js';

/**
 * Retention's archive on Node (STINT_AUDIT_ARCHIVE_DIR): each cut is appended to a JSON lines
 * file per month of its last record, `audit-YYYY-MM.jsonl` — the records as `GET /v1/audit`
 * shows them, then a `{"checkpoint": …}` line with the signed checkpoint that covers them — and
 * synced to disk before retention deletes anything. With the file, the pruned segment stays
 * checkable offline: each record's hash links to the one before, and the checkpoint's JWS (the
 * broker's key, `/.well-known/jwks.json`) names the last one.
 */
export function fileArchive(dir: string): (records: AuditRecord[], checkpoint: AuditCheckpoint) => Promise<void> {
  return async (records, checkpoint) => {
    if (records.length === 0) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const month = new Date(records[records.length - 1]!.at).toISOString().slice(0, 7);
    const lines = records.map((r) => JSON.stringify({ seq: r.seq, at: new Date(r.at).toISOString(), type: r.type, actor: r.actor, task_id: r.taskId, data: r.data, prev_hash: r.prevHash, hash: r.hash }));
    lines.push(JSON.stringify({ checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash, at: new Date(checkpoint.at).toISOString(), jws: checkpoint.jws } }));
    const file = await open(join(dir, `audit-${month}.jsonl`), 'a', 0o600);
    try {
      await file.writeFile(`${lines.join('\n')}\n`);
      await file.datasync();
    } finally {
      await file.close();
    }
  };
}
