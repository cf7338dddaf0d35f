import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { randomId } from './encoding.js';
import { StintError } from './errors.js';
import { SIGNING_ALG, type KeyRing } from './keys.js';
import type { Store } from './ports.js';

/**
 * Calls between the broker and the approval service are JWTs signed by the caller's own key
 * (`typ: stint-internal+jwt`, 60 s, single-use `jti`), so neither side needs a shared secret
 * and neither can be impersonated by whoever holds the other's database.
 */
export const INTERNAL_TYP = 'stint-internal+jwt';
const LIFETIME = 60;

export async function signInternal(keys: KeyRing, iss: string, aud: string, body: Record<string, unknown>, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ body })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: INTERNAL_TYP, kid: keys.kid })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LIFETIME)
    .setJti(randomId(''))
    .sign(keys.privateKey);
}

export async function verifyInternal(
  jwt: string,
  keyFor: (kid: string) => Promise<CryptoKey | undefined>,
  o: { issuer: string; audience: string; now: number; replay: Store['replay'] },
): Promise<Record<string, unknown>> {
  try {
    const { kid } = decodeProtectedHeader(jwt);
    const key = kid ? await keyFor(kid) : undefined;
    if (!key) throw new Error('unknown key');
    const { payload } = await jwtVerify(jwt, key, { typ: INTERNAL_TYP, issuer: o.issuer, audience: o.audience, algorithms: [SIGNING_ALG], currentDate: new Date(o.now), requiredClaims: ['jti', 'exp'] });
    if (!(await o.replay.consume('internal', String(payload.jti), (payload.exp! + 1) * 1000))) throw new Error('replayed');
    return (payload.body ?? {}) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof StintError) throw e;
    throw new StintError('unauthorized', `internal call refused: ${(e as Error).message}`, { cause: e });
  }
}
