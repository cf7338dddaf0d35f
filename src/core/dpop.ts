import type { JWK } from 'jose';
import { importPublicJwk } from './jwk-cache.js';
import { checkClaims, JwsError, parseJwt, verifySignature, type ParsedJws } from './jws.js';
import { sha256 } from './encoding.js';
import { StintError } from './errors.js';
import type { Store } from './ports.js';

/**
 * Signature algorithms accepted for DPoP proofs and client assertions. `Ed25519` is the
 * fully-specified name (RFC 9864) that current clients such as oauth4webapi send.
 */
export const ACCEPTED_ALGS = ['EdDSA', 'Ed25519', 'ES256'];
/** How far a proof's `iat` may be from our clock, seconds (RFC 9449 §11.1). */
export const DPOP_IAT_WINDOW = 60;

export interface DpopCheck {
  proof: string | undefined;
  method: string;
  /** URLs the proof's `htu` may name (the request URL, and the one derived from the issuer). */
  urls: string[];
  /** The access token presented with the proof, if any: `ath` must be its hash. */
  accessToken?: string;
  now: number;
  /** Where proof `jti`s are remembered (the broker's store, or a verifier's memory). */
  replay: Pick<Store['replay'], 'consume'>;
  /** Error code for a bad proof: `invalid_dpop_proof` at the token endpoint, `invalid_token` at resources. */
  code?: 'invalid_dpop_proof' | 'invalid_token';
}

export interface DpopResult {
  jkt: string;
  jwk: JWK;
}

/** Scheme, host and path only: query and fragment are not part of `htu` (RFC 9449 §4.3). */
export function normalizeHtu(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/**
 * A proof that verifies — signed by the key in its own header, naming this method, this URL and
 * this token's hash — whose only fault is its time: a `jti` already used (a retried request
 * replaying its proof) or an `iat` outside the window (a skewed clock). Only the holder of the
 * key could have made it, so when that key is the token's own this is the owner's mistake, not
 * evidence that the token has leaked. A proof that merely *names* the token's key in an
 * unverified header proves nothing (anyone can copy a public key into a header): it is a proof
 * that fails, and the token shown with it has leaked.
 */
export class UntimelyProof extends StintError {
  constructor(
    code: 'invalid_dpop_proof' | 'invalid_token',
    why: string,
    /** The thumbprint of the key that verifiably signed the proof. */
    readonly jkt: string,
  ) {
    super(code, `DPoP proof ${why}`, { status: code === 'invalid_token' ? 401 : 400 });
  }
}

/** Whether a failed proof was the token's owner's own mistake (see `UntimelyProof`). */
export const ownersUntimelyProof = (e: unknown, tokenJkt: string): boolean => e instanceof UntimelyProof && e.jkt === tokenJkt;

/** Verifies a DPoP proof (RFC 9449 §4.3) and consumes its `jti`. */
export async function verifyDpopProof(c: DpopCheck): Promise<DpopResult> {
  const code = c.code ?? 'invalid_dpop_proof';
  const refuse = (why: string, cause?: unknown): never => {
    throw new StintError(code, `DPoP proof ${why}`, { cause, status: code === 'invalid_token' ? 401 : 400 });
  };
  if (!c.proof) refuse('is missing: send a DPoP header');
  if (c.proof!.includes(',')) refuse('must be a single header value');

  let jws: ParsedJws;
  try {
    jws = parseJwt(c.proof!, { algorithms: ACCEPTED_ALGS, typ: 'dpop+jwt' });
  } catch (e) {
    if (e instanceof JwsError && e.fault === 'alg') return refuse('alg is not accepted', e);
    if (e instanceof JwsError && e.fault !== 'malformed') return refuse(`is invalid (${e.fault}: ${e.message})`, e);
    return refuse('is not a JWS', e);
  }
  const { header, payload } = jws;
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) refuse('has no jwk header');
  if ('d' in jwk! || 'k' in jwk! || 'p' in jwk!) refuse('carries a private or symmetric key');

  let key: CryptoKey;
  let jkt: string;
  try {
    ({ key, jkt } = await importPublicJwk(jwk!, header.alg as string));
  } catch (e) {
    return refuse('jwk header is not a usable public key', e);
  }
  try {
    checkClaims(payload, { required: ['jti', 'htm', 'htu', 'iat'], now: Math.floor(c.now / 1000), tolerance: DPOP_IAT_WINDOW });
    await verifySignature(jws, [key]);
  } catch (e) {
    if (e instanceof JwsError) return refuse(`is invalid (${e.fault}: ${e.message})`, e);
    return refuse('could not be verified', e);
  }
  const nowSec = Math.floor(c.now / 1000);
  const iat = payload.iat as number;
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 256) refuse('jti must be a string of 8–256 characters');
  if (payload.htm !== c.method) refuse(`htm must be ${c.method}`);
  const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined;
  if (!htu || !c.urls.some((u) => normalizeHtu(u) === htu)) refuse(`htu must be ${c.urls.map((u) => `"${normalizeHtu(u)}"`).join(' or ')}`);
  if (c.accessToken !== undefined) {
    const ath = await sha256(c.accessToken);
    if (payload.ath !== ath) refuse('ath does not match the access token');
  }
  // Everything but time holds: from here a refusal says the key's holder made this proof.
  if (Math.abs(nowSec - iat) > DPOP_IAT_WINDOW) throw new UntimelyProof(code, `iat is outside the ${DPOP_IAT_WINDOW}s window`, jkt);

  // The jti is remembered for as long as the proof could still pass the iat check.
  const fresh = await c.replay.consume(`dpop:${jkt}`, payload.jti as string, (iat + DPOP_IAT_WINDOW + 1) * 1000);
  if (!fresh) throw new UntimelyProof(code, 'was already used (jti replay)', jkt);
  return { jkt, jwk: jwk! };
}
