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
 * Public keys imported once and reused: agents present the same DPoP key on every request, and
 * importing it costs more than the thumbprint lookup. Bounded; cleared when full.
 */
const imported = new Map<string, CryptoKey>();
export async function importPublicJwk(jwk: JWK, alg: string): Promise<{ key: CryptoKey; jkt: string }> {
  const jkt = thumbprintOf(jwk);
  const id = `${alg}:${jkt}`;
  let key = imported.get(id);
  if (!key) {
    key = (await importJWK(jwk, alg)) as CryptoKey;
    if (imported.size >= 10_000) imported.clear();
    imported.set(id, key);
  }
  return { key, jkt };
}
