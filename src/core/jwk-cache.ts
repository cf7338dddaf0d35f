import { importJWK, type JWK } from 'jose';
import { canonicalJson, sha256 } from './encoding.js';

/** RFC 7638 members of each key type: the thumbprint hashes exactly these, in this order. */
const REQUIRED: Record<string, string[]> = { OKP: ['crv', 'kty', 'x'], EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'] };

/** RFC 7638 SHA-256 thumbprint, base64url, computed synchronously. */
export function thumbprintOf(jwk: JWK): string {
  const members = REQUIRED[jwk.kty ?? ''];
  if (!members) throw new Error('unsupported key type');
  const picked: Record<string, unknown> = {};
  for (const m of members) {
    const v = (jwk as Record<string, unknown>)[m];
    if (typeof v !== 'string') throw new Error(`JWK member ${m} missing`);
    picked[m] = v;
  }
  return sha256(canonicalJson(picked));
}

/**
 * Public keys imported once and reused, with their thumbprints: agents present the same DPoP key
 * on every request, and importing it, or even hashing it for its thumbprint, costs more than
 * this lookup. Looked up by the thumbprint's own members (the JSON of their values, so no two
 * keys share an entry), which is what the thumbprint is a function of. Bounded; cleared when full.
 */
const imported = new Map<string, { jkt: string; byAlg: Map<string, CryptoKey> }>();
export async function importPublicJwk(jwk: JWK, alg: string): Promise<{ key: CryptoKey; jkt: string }> {
  const members = REQUIRED[jwk.kty ?? ''];
  if (!members) throw new Error('unsupported key type');
  const id = JSON.stringify(members.map((m) => (jwk as Record<string, unknown>)[m] ?? null).concat(jwk.kty!));
  let entry = imported.get(id);
  if (!entry) {
    entry = { jkt: thumbprintOf(jwk), byAlg: new Map() };
    if (imported.size >= 10_000) imported.clear();
    imported.set(id, entry);
  }
  let key = entry.byAlg.get(alg);
  if (!key) {
    key = (await importJWK(jwk, alg)) as CryptoKey;
    entry.byAlg.set(alg, key);
  }
  return { key, jkt: entry.jkt };
}
