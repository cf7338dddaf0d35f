import { fromB64url, utf8 } from './encoding.js';

/**
 * Compact JWS / JWT verification for the two signatures of every token request (the client
 * assertion, RFC 7523, and the DPoP proof, RFC 9449), in place of jose's `jwtVerify`: one parse
 * instead of two, no per-call key resolution or option validation, and the signature checked by
 * WebCrypto directly (on Node it runs on the thread pool, off the main thread). The checks are
 * jose's, made stricter where jose is lenient: any `crit` header is refused (we understand no
 * extension, RFC 7515 §4.1.11), and every segment must be base64url without padding.
 * jose still verifies everything else (stint's own tokens are verified once and cached).
 */

/** Why a JWS or JWT was refused; callers word their answers from it. */
export type JwsFault = 'malformed' | 'alg' | 'crit' | 'typ' | 'key' | 'signature' | 'claim' | 'expired';

export class JwsError extends Error {
  constructor(
    readonly fault: JwsFault,
    message: string,
    /** The claim that failed, for `claim` and `expired`. */
    readonly claim?: string,
  ) {
    super(message);
  }
}

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** ASCII of `header.payload`, what the signature covers. */
  signingInput: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A plain JSON object (no array, no null, no class instance), as jose's `isObject`. */
function isObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.prototype.toString.call(v) !== '[object Object]') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function jsonSegment(segment: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(strictUtf8.decode(fromB64url(segment)));
  } catch {
    throw new JwsError('malformed', `the ${what} is not base64url JSON`);
  }
  if (!isObject(v)) throw new JwsError('malformed', `the ${what} is not a JSON object`);
  return v;
}

/**
 * Parses a compact JWS with a JSON object payload (a JWT) and checks its header: `alg` in the
 * allow-list, no `crit`, and `typ` when one is expected (compared as RFC 7515 §4.1.9 and jose
 * do: case-insensitive, `application/` implied). Verifies nothing yet.
 */
export function parseJwt(token: string, o: { algorithms: readonly string[]; typ?: string }): ParsedJws {
  if (typeof token !== 'string') throw new JwsError('malformed', 'not a compact JWS');
  const parts = token.split('.');
  if (parts.length !== 3 || !SEGMENT.test(parts[0]!) || !SEGMENT.test(parts[1]!) || !SEGMENT.test(parts[2]!)) {
    throw new JwsError('malformed', 'not a compact JWS');
  }
  const header = jsonSegment(parts[0]!, 'protected header');
  if (typeof header.alg !== 'string' || !o.algorithms.includes(header.alg)) throw new JwsError('alg', 'alg is not accepted');
  if (header.crit !== undefined) throw new JwsError('crit', 'crit names an extension this server does not understand');
  if (o.typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(o.typ))) {
    throw new JwsError('typ', `typ must be ${o.typ}`);
  }
  const payload = jsonSegment(parts[1]!, 'payload');
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = fromB64url(parts[2]!);
  } catch {
    throw new JwsError('malformed', 'the signature is not base64url');
  }
  return { header, payload, signingInput: utf8(`${parts[0]}.${parts[1]}`) as Uint8Array<ArrayBuffer>, signature };
}

const normalizeTyp = (typ: string) => {
  const t = typ.toLowerCase();
  return t.includes('/') ? t : `application/${t}`;
};

/** Whether a public key is one `alg` may be verified with (no ECDSA key under EdDSA, nor the reverse). */
function keyFitsAlg(key: CryptoKey, alg: string): boolean {
  const a = key.algorithm as { name: string; namedCurve?: string };
  if (key.type !== 'public' || !key.usages.includes('verify')) return false;
  if (alg === 'EdDSA' || alg === 'Ed25519') return a.name === 'Ed25519';
  if (alg === 'ES256') return a.name === 'ECDSA' && a.namedCurve === 'P-256';
  return false;
}

/** The WebCrypto parameters of a signature algorithm; only the algorithms stint accepts. */
function params(alg: string): { name: string; hash?: string } {
  if (alg === 'EdDSA' || alg === 'Ed25519') return { name: 'Ed25519' };
  if (alg === 'ES256') return { name: 'ECDSA', hash: 'SHA-256' };
  throw new JwsError('alg', 'alg is not accepted');
}

/** Whether the signature verifies under one of `keys` (tried in order; a key that does not fit `alg` is skipped). */
export async function verifySignature(jws: ParsedJws, keys: readonly CryptoKey[]): Promise<void> {
  const alg = jws.header.alg as string;
  const usable = keys.filter((k) => keyFitsAlg(k, alg));
  if (usable.length === 0) throw new JwsError('key', 'no key fits the alg');
  for (const key of usable) {
    try {
      if (await crypto.subtle.verify(params(alg), key, jws.signature, jws.signingInput)) return;
    } catch {
      // a malformed signature for this key type: not verified by this key
    }
  }
  throw new JwsError('signature', 'signature verification failed');
}

export interface ClaimChecks {
  /** Claims that must be present (any value; types are checked below for the time claims). */
  required?: readonly string[];
  issuer?: string;
  subject?: string;
  /** Acceptable audiences: `aud` (a string or an array of strings) must name one. */
  audience?: readonly string[];
  /** Now, in seconds. */
  now: number;
  /** Clock tolerance for `exp` and `nbf`, seconds. */
  tolerance?: number;
}

/**
 * The JWT claims checks of RFC 7519 §4.1 as jose's `jwtVerify` makes them: required claims
 * present; `iss`, `sub`, `aud` as expected; `iat`, `nbf`, `exp` numbers when present; not
 * before `nbf`; not at or after `exp` (both with the tolerance).
 */
export function checkClaims(payload: Record<string, unknown>, c: ClaimChecks): void {
  const required = [...(c.required ?? [])];
  if (c.issuer !== undefined) required.push('iss');
  if (c.subject !== undefined) required.push('sub');
  if (c.audience !== undefined) required.push('aud');
  for (const claim of required) if (!Object.hasOwn(payload, claim)) throw new JwsError('claim', `missing required "${claim}" claim`, claim);
  if (c.issuer !== undefined && payload.iss !== c.issuer) throw new JwsError('claim', 'unexpected "iss" claim value', 'iss');
  if (c.subject !== undefined && payload.sub !== c.subject) throw new JwsError('claim', 'unexpected "sub" claim value', 'sub');
  if (c.audience !== undefined && !audienceMatches(payload.aud, c.audience)) throw new JwsError('claim', 'unexpected "aud" claim value', 'aud');
  const tolerance = c.tolerance ?? 0;
  for (const claim of ['iat', 'nbf', 'exp']) {
    const v = payload[claim];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new JwsError('claim', `"${claim}" claim must be a number`, claim);
  }
  if (typeof payload.nbf === 'number' && payload.nbf > c.now + tolerance) throw new JwsError('claim', '"nbf" claim timestamp check failed', 'nbf');
  if (typeof payload.exp === 'number' && payload.exp <= c.now - tolerance) throw new JwsError('expired', '"exp" claim timestamp check failed', 'exp');
}

const audienceMatches = (aud: unknown, accepted: readonly string[]) =>
  typeof aud === 'string' ? accepted.includes(aud) : Array.isArray(aud) && accepted.some((a) => aud.includes(a));
