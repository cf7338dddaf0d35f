import { compactVerify, decodeProtectedHeader } from 'jose';
import type { KeyRing } from './keys.js';
import type { AuditCheckpoint } from './ports.js';

/**
 * A checkpoint is what lets the audit log be cut without losing its proof: before records up to
 * `seq` are dropped, the broker signs `{seq, hash}` (hash of record `seq`) with its token key, and
 * verification starts from the newest checkpoint instead of the genesis. Someone who can write
 * the database can delete records, but cannot make a checkpoint that covers the gap: a forged or
 * edited one fails its signature, an older genuine one leaves the records after it missing.
 *
 * Trade-off: the proof of the pruned segment is the broker's word (its key signed the cut), not
 * a recomputation; an operator who needs the pruned records keeps an export (`GET /v1/audit`).
 */
export const CHECKPOINT_TYP = 'stint-audit-checkpoint+jws';

export interface CheckpointClaims {
  iss: string;
  /** The last record the cut covers, and its hash: the chain resumes from these. */
  seq: number;
  hash: string;
  /** That record's time (ms), and when the checkpoint was signed (s, as JWT `iat`). */
  record_at: number;
  iat: number;
}

export async function signCheckpoint(keys: KeyRing, issuer: string, cut: { seq: number; hash: string; at: number }, now: number): Promise<AuditCheckpoint> {
  const claims: CheckpointClaims = { iss: issuer, seq: cut.seq, hash: cut.hash, record_at: cut.at, iat: Math.floor(now / 1000) };
  return { seq: cut.seq, hash: cut.hash, at: now, jws: await keys.sign(CHECKPOINT_TYP, claims) };
}

/**
 * The claims of a stored checkpoint whose signature holds under one of the broker's keys and
 * whose columns agree with what was signed; otherwise the reason it does not.
 */
export async function openCheckpoint(keys: KeyRing, c: AuditCheckpoint): Promise<{ ok: true; claims: CheckpointClaims } | { ok: false; reason: string }> {
  let claims: CheckpointClaims;
  try {
    const header = decodeProtectedHeader(c.jws);
    const key = typeof header.kid === 'string' ? keys.publicKey(header.kid) : undefined;
    if (!key) return { ok: false, reason: 'the checkpoint is signed by a key the broker does not have' };
    if (header.typ !== CHECKPOINT_TYP || header.alg !== 'EdDSA') return { ok: false, reason: 'the checkpoint is not a stint audit checkpoint' };
    const { payload } = await compactVerify(c.jws, key, { algorithms: ['EdDSA'] });
    claims = JSON.parse(new TextDecoder().decode(payload)) as CheckpointClaims;
  } catch {
    return { ok: false, reason: "the checkpoint's signature does not verify" };
  }
  if (!Number.isSafeInteger(claims.seq) || claims.seq < 1 || typeof claims.hash !== 'string') return { ok: false, reason: 'the checkpoint names no record' };
  if (claims.seq !== c.seq || claims.hash !== c.hash) return { ok: false, reason: 'the checkpoint row does not match what was signed' };
  return { ok: true, claims };
}
