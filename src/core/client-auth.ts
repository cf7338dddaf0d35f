import { importJWK, type JWK } from 'jose';
import { ACCEPTED_ALGS } from './dpop.js';
import { checkClaims, JwsError, parseJwt, verifySignature, type ParsedJws } from './jws.js';
import { StintError } from './errors.js';
import type { AgentRecord, Store } from './ports.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A client assertion may live at most this long (exp − iat, and exp − now), seconds. */
export const MAX_ASSERTION_LIFETIME = 300;

export interface ClientAuthInput {
  clientAssertionType?: string;
  clientAssertion?: string;
  clientId?: string;
  /** Acceptable `aud` values: the issuer and the URL of the endpoint being called. */
  audiences: string[];
  now: number;
  store: Store;
}

const refuse = (why: string, cause?: unknown): never => {
  throw new StintError('invalid_client', why, { cause });
};

// Each agent's registered keys, imported once per algorithm, so that a key is imported once, not
// on every request (the JWKS is compared by content: each read of the agent row parses a fresh copy).
interface KeySet {
  jwks: string;
  keys: { jwk: JWK; byAlg: Map<string, Promise<CryptoKey | undefined>> }[];
}
const keySets = new Map<string, KeySet>();
function keySetFor(agent: AgentRecord): KeySet {
  const jwks = JSON.stringify(agent.jwks);
  const hit = keySets.get(agent.id);
  if (hit && hit.jwks === jwks) return hit;
  const keys = (Array.isArray(agent.jwks) ? (agent.jwks as JWK[]) : []).filter((k) => k !== null && typeof k === 'object').map((jwk) => ({ jwk, byAlg: new Map() }));
  if (keySets.size > 10_000) keySets.clear();
  const set = { jwks, keys };
  keySets.set(agent.id, set);
  return set;
}

/** The curve each accepted alg needs (RFC 8037, RFC 7518 §3.4). */
const KEY_FOR_ALG: Record<string, { kty: string; crv: string }> = { EdDSA: { kty: 'OKP', crv: 'Ed25519' }, Ed25519: { kty: 'OKP', crv: 'Ed25519' }, ES256: { kty: 'EC', crv: 'P-256' } };

/**
 * The registered keys that may have signed a JWS with this header, as jose's local JWKS picks
 * them: the alg's key type and curve, the same `kid` when the header names one, `alg`, `use` and
 * `key_ops` compatible when the key states them; and only public keys.
 */
async function candidateKeys(set: KeySet, header: Record<string, unknown>): Promise<CryptoKey[]> {
  const alg = header.alg as string;
  const want = KEY_FOR_ALG[alg];
  if (!want) return [];
  const kid = header.kid;
  const out: CryptoKey[] = [];
  for (const k of set.keys) {
    const { kty, crv, kid: keyKid, alg: keyAlg, use, key_ops: ops, ext } = k.jwk;
    if (kty !== want.kty || crv !== want.crv) continue;
    if (kid !== undefined && (typeof kid !== 'string' || kid !== keyKid)) continue;
    if (keyAlg !== undefined && keyAlg !== alg) continue;
    if (use !== undefined && use !== 'sig') continue;
    if (ext !== undefined && typeof ext !== 'boolean') continue;
    if (ops !== undefined && (!Array.isArray(ops) || !ops.includes('verify'))) continue;
    if ('d' in k.jwk) continue;
    let imported = k.byAlg.get(alg);
    if (!imported) k.byAlg.set(alg, (imported = importJWK(k.jwk, alg).then((key) => ((key as CryptoKey).type === 'public' ? (key as CryptoKey) : undefined), () => undefined)));
    const key = await imported;
    if (key) out.push(key);
  }
  return out;
}

/**
 * Authenticates an agent by `private_key_jwt` (RFC 7523 §2.2, RFC 7521 §4.2): the assertion is
 * signed by a key in the agent's registered JWKS, names the agent as `iss` and `sub`, is for us
 * (`aud`), expires soon, and its `jti` has not been seen before.
 */
export async function authenticateAgent(input: ClientAuthInput): Promise<AgentRecord> {
  if (input.clientAssertionType !== JWT_BEARER_ASSERTION || !input.clientAssertion) {
    refuse(`client authentication requires client_assertion_type=${JWT_BEARER_ASSERTION} and a client_assertion (private_key_jwt)`);
  }
  let jws: ParsedJws;
  try {
    jws = parseJwt(input.clientAssertion!, { algorithms: ACCEPTED_ALGS });
  } catch (e) {
    if (e instanceof JwsError && e.fault !== 'malformed') return refuse(`client_assertion is invalid (${e.fault}: ${e.message})`, e);
    return refuse('client_assertion is not a JWT', e);
  }
  const { payload } = jws;
  const clientId = payload.sub;
  if (typeof clientId !== 'string' || payload.iss !== clientId) refuse('client_assertion must have iss = sub = client_id');
  if (input.clientId !== undefined && input.clientId !== clientId) refuse('client_id does not match the client_assertion');

  const agent = await input.store.agents.get(clientId as string);
  if (!agent) refuse('unknown client');

  try {
    checkClaims(payload, { issuer: clientId as string, subject: clientId as string, audience: input.audiences, required: ['exp', 'jti'], now: Math.floor(input.now / 1000) });
    const keys = await candidateKeys(keySetFor(agent!), jws.header);
    if (keys.length === 0) throw new JwsError('key', 'no registered key matches the header');
    await verifySignature(jws, keys);
  } catch (e) {
    if (!(e instanceof JwsError)) return refuse('client_assertion could not be verified', e);
    if (e.fault === 'expired') return refuse('client_assertion has expired', e);
    if (e.fault === 'key' || e.fault === 'signature') return refuse('client_assertion is not signed by a key registered for this client', e);
    if (e.claim === 'aud') {
      // Name the URL expected: the usual cause is a client that built `aud` from the address
      // it connected to (127.0.0.1) instead of the issuer (localhost).
      return refuse(`client_assertion aud must be the issuer ${input.audiences.map((a) => `"${a}"`).join(' or ')}`, e);
    }
    return refuse(`client_assertion is invalid (${e.fault}: ${e.message})`, e);
  }
  const nowSec = Math.floor(input.now / 1000);
  const exp = payload.exp as number;
  if (exp - nowSec > MAX_ASSERTION_LIFETIME || (typeof payload.iat === 'number' && exp - payload.iat > MAX_ASSERTION_LIFETIME)) {
    refuse(`client_assertion must expire within ${MAX_ASSERTION_LIFETIME}s`);
  }
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 256) refuse('client_assertion jti must be a string of 8–256 characters');
  if (!(await input.store.replay.consume(`assertion:${clientId}`, payload.jti as string, (exp + 1) * 1000))) {
    refuse('client_assertion was already used (jti replay)');
  }
  return agent!;
}
