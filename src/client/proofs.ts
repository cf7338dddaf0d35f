// Signing helpers an agent needs: its keys, private_key_jwt assertions and DPoP proofs.
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export type Alg = 'EdDSA' | 'ES256';

export interface KeyPair {
  alg: Alg;
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

export async function newKey(alg: Alg = 'EdDSA'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** A private_key_jwt client assertion (RFC 7523). */
export async function assertion(
  key: KeyPair,
  clientId: string,
  aud: string,
  opts: { nowSec: number; ttl?: number; jti?: string; iss?: string } ,
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg })
    .setIssuer(opts.iss ?? clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setIssuedAt(opts.nowSec)
    .setExpirationTime(opts.nowSec + (opts.ttl ?? 60))
    .setJti(opts.jti ?? crypto.randomUUID())
    .sign(key.privateKey);
}

/** A DPoP proof (RFC 9449). */
export async function dpopProof(
  key: KeyPair,
  htm: string,
  htu: string,
  opts: { nowSec: number; accessToken?: string; jti?: string; typ?: string },
): Promise<string> {
  const claims: Record<string, unknown> = { htm, htu, jti: opts.jti ?? crypto.randomUUID(), iat: opts.nowSec };
  if (opts.accessToken) claims.ath = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(opts.accessToken))));
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: opts.typ ?? 'dpop+jwt', jwk: key.publicJwk }).sign(key.privateKey);
}
