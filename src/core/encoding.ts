import { sha256 as sha256Bytes } from '@noble/hashes/sha2.js';
import { base64url } from 'jose';

const encoder = new TextEncoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

// Node's Buffer where there is one: jose's base64url (btoa over a binary string, then three
// replaces) costs several times more, and every token is encoded, every JWS decoded, per request.
type NodeBuffer = { from(v: Uint8Array | string, enc?: string): { toString(enc: string): string; buffer: ArrayBuffer; byteOffset: number; byteLength: number } };
const NodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/** base64url without padding (RFC 7515 §2) of bytes, or of a string's UTF-8. */
export const b64url: (data: Uint8Array | string) => string = NodeBuffer
  ? (data) => NodeBuffer.from(data as Uint8Array).toString('base64url')
  : (data) => base64url.encode(data);

/**
 * Decodes unpadded base64url, strictly: only the alphabet, and no length that leaves a lone
 * character (Buffer would ignore what it cannot read; this refuses it, as jose does).
 */
export function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new TypeError('not base64url');
  if (!NodeBuffer) return base64url.decode(s) as Uint8Array<ArrayBuffer>;
  const b = NodeBuffer.from(s, 'base64url');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) as Uint8Array<ArrayBuffer>;
}

/**
 * SHA-256, base64url. Synchronous on purpose: WebCrypto's digest is a thread-pool round trip,
 * and the audit chain hashes one record after another, so each hop would queue behind
 * signature checks and serialise every issuance behind them. node:crypto's hash where the
 * runtime has one (4–5× faster than pure JS for an audit record, and on every issuance),
 * else @noble/hashes; both are checked against a known digest before use.
 */
export const sha256: (data: string | Uint8Array) => string = (() => {
  const noble = (data: string | Uint8Array) => base64url.encode(sha256Bytes(typeof data === 'string' ? utf8(data) : data));
  type NodeCrypto = { createHash(alg: 'sha256'): { update(d: string | Uint8Array): { digest(enc: 'base64url'): string } } };
  try {
    const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    const native = (data: string | Uint8Array) => nodeCrypto!.createHash('sha256').update(data).digest('base64url');
    // SHA-256 of "abc" with a non-ASCII character: the string is hashed as UTF-8 either way.
    if (nodeCrypto && native('abc\u00e9') === noble('abc\u00e9') && native(utf8('x')) === noble('x')) return native;
  } catch {
    // no usable node:crypto here
  }
  return noble;
})();

// Random bytes drawn from the CSPRNG in blocks: one getRandomValues call per 256 identifiers
// instead of one each (each call costs ≈ 15 µs on Node; identifiers are minted per request).
let pool = new Uint8Array(0);
let offset = 0;
function randomBytes(n: number): Uint8Array {
  if (offset + n > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(Math.max(4096, n)));
    offset = 0;
  }
  const out = pool.slice(offset, offset + n);
  // Used bytes are zeroed so that nothing can read them back from the pool.
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}

/** A random identifier with the given prefix and 128 bits of entropy, base64url. */
export function randomId(prefix: string, bytes = 16): string {
  return `${prefix}${b64url(randomBytes(bytes))}`;
}

/** Compares two secrets without leaking where they differ (both are hashed first). */
export function timingSafeEqual(a: string, b: string): boolean {
  const [x, y] = [sha256(a), sha256(b)];
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x.charCodeAt(i) ^ y.charCodeAt(i);
  return diff === 0 && x.length === y.length;
}

/**
 * Deterministic JSON (keys sorted at every level), so that a hash over a record is the same
 * wherever it is recomputed. Matches RFC 8785 for the strings, integers and objects we store.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
