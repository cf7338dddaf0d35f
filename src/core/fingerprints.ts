import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as sha256Fn } from '@noble/hashes/sha2.js';
import { utf8 } from './encoding.js';
import type { Clock, Sealer, Store } from './ports.js';

/**
 * Keyed fingerprints. The tool-call path sees credentials the broker must be able to recognise
 * again (the same leaked key in two calls, two tasks) without ever holding them. The hook sends a
 * digest of the value over its DPoP-authenticated call; what the broker records is an HMAC of
 * that digest under a per-deployment key only the broker holds. An unkeyed digest of a password
 * is a dictionary lookup away from the password ("Summer2024!" from seven guesses); a keyed one
 * is not, for anyone without the key (the agent, a resource service, a reader of the audit log).
 *
 * The key is 32 random bytes made on first start and kept sealed in the secret store (under the
 * master key, so master-key rotation re-wraps it and fingerprints stay comparable across it).
 * Its name holds a `:`, which the vault API refuses in names, so no operator call can replace it.
 */
export const FINGERPRINT_SECRET = 'stint:fingerprint-key';

export type Fingerprinter = (digest: string) => string;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The fingerprint recorded for a digest: 20 hex digits of HMAC-SHA-256 (domain-separated). */
export const fingerprinter =
  (key: Uint8Array): Fingerprinter =>
  (digest) =>
    hex(hmac(sha256Fn, key, utf8(`stint fingerprint v1\n${digest}`))).slice(0, 20);

/**
 * The deployment's fingerprint key: read from the store, or made and stored on first start.
 * Two brokers starting on an empty database at once may both make one; both re-read after
 * writing, so each ends with the one stored last (the same race as the first signing key's).
 */
export async function loadFingerprintKey(store: Store, sealer: Sealer, clock: Clock): Promise<Uint8Array> {
  let row = await store.secrets.get(FINGERPRINT_SECRET);
  if (!row) {
    await store.secrets.put(FINGERPRINT_SECRET, await sealer.seal(crypto.getRandomValues(new Uint8Array(32))), clock.now());
    await store.flush();
    row = await store.secrets.get(FINGERPRINT_SECRET);
  }
  return sealer.open(row!.sealedValue);
}

/** The digest the hook sends for a value (16 hex digits of SHA-256): what the broker keys. */
export const credentialDigest = (value: string) => hex(sha256Fn(utf8(value))).slice(0, 16);
