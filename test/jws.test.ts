import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authenticateAgent } from '../src/core/client-auth.js';
import { importPublicJwk } from '../src/core/jwk-cache.js';
import { checkClaims, JwsError, parseJwt, verifySignature } from '../src/core/jws.js';

const ALGS = ['EdDSA', 'Ed25519', 'ES256'];
const now = 1_800_000_000;
const fault = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof JwsError ? e.fault : `not a JwsError: ${e}`;
  }
  return 'accepted';
};
const asyncFault = async (p: Promise<unknown>) => p.then(() => 'accepted', (e) => (e instanceof JwsError ? e.fault : `not a JwsError: ${e}`));
/** A compact JWS with this header and payload, signed (or not) by nobody. */
const forge = (header: object, payload: object, sig = 'c2ln') => `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${sig}`;

describe('compact JWS verification (client assertions and DPoP proofs)', () => {
  it('verifies EdDSA and ES256 JWTs made by jose, and refuses them under the wrong key or once tampered with', async () => {
    for (const alg of ['EdDSA', 'ES256']) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
      const other = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
      const token = await new SignJWT({ jti: 'abcdefgh' }).setProtectedHeader({ alg, typ: 'dpop+jwt' }).setIssuedAt(now).sign(privateKey);
      const jws = parseJwt(token, { algorithms: ALGS, typ: 'dpop+jwt' });
      expect(jws.payload).toEqual({ jti: 'abcdefgh', iat: now });
      await verifySignature(jws, [publicKey]);
      await verifySignature(jws, [other.publicKey, publicKey]); // the second candidate signed it
      expect(await asyncFault(verifySignature(jws, [other.publicKey]))).toBe('signature');
      const [h, , s] = token.split('.');
      const tampered = parseJwt(`${h}.${base64url.encode(JSON.stringify({ jti: 'abcdefgh', iat: now + 1 }))}.${s}`, { algorithms: ALGS });
      expect(await asyncFault(verifySignature(tampered, [publicKey]))).toBe('signature');
    }
  });

  it('never verifies with a key of another algorithm than the header names', async () => {
    const ec = await generateKeyPair('ES256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).sign((await generateKeyPair('EdDSA')).privateKey);
    expect(await asyncFault(verifySignature(parseJwt(token, { algorithms: ALGS }), [ec.publicKey]))).toBe('key');
  });

  it('refuses algorithms off the list, crit extensions, the wrong typ and anything not a compact JWS of a JSON object', () => {
    const ok = { alg: 'EdDSA', typ: 'dpop+jwt' };
    expect(fault(() => parseJwt(forge(ok, {}), { algorithms: ALGS, typ: 'dpop+jwt' }))).toBe('accepted');
    expect(fault(() => parseJwt(forge({ ...ok, typ: 'application/DPoP+JWT' }, {}), { algorithms: ALGS, typ: 'dpop+jwt' }))).toBe('accepted');
    for (const alg of ['none', 'HS256', 'RS256', undefined, 7]) expect(fault(() => parseJwt(forge({ alg }, {}), { algorithms: ALGS }))).toBe('alg');
    expect(fault(() => parseJwt(forge({ ...ok, crit: ['b64'], b64: true }, {}), { algorithms: ALGS }))).toBe('crit');
    expect(fault(() => parseJwt(forge({ ...ok, crit: [] }, {}), { algorithms: ALGS }))).toBe('crit');
    expect(fault(() => parseJwt(forge({ ...ok, typ: 'JWT' }, {}), { algorithms: ALGS, typ: 'dpop+jwt' }))).toBe('typ');
    expect(fault(() => parseJwt(forge({ alg: 'EdDSA' }, {}), { algorithms: ALGS, typ: 'dpop+jwt' }))).toBe('typ');
    const good = forge(ok, {});
    for (const bad of [
      'not.a.jwt',
      `${good}.x`,
      good.split('.').slice(0, 2).join('.'),
      `${good}=`,
      ` ${good}`,
      forge(ok, [1, 2]),
      forge(ok, 'text' as never),
      forge([ok] as never, {}),
      `${base64url.encode('{"alg":"EdDSA"')}.${base64url.encode('{}')}.c2ln`,
      `${base64url.encode(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))}.${base64url.encode('{}')}.c2ln`, // not UTF-8
    ]) {
      expect(fault(() => parseJwt(bad, { algorithms: ALGS })), bad).toMatch(/^(malformed|alg)$/);
    }
  });

  it('checks claims as jose does: required, iss, sub, aud (string or array), nbf, exp, numeric times', () => {
    const base = { iss: 'a', sub: 'a', aud: 'https://b', exp: now + 60, jti: 'abcdefgh' };
    const checks = { issuer: 'a', subject: 'a', audience: ['https://b', 'https://b/token'], required: ['exp', 'jti'], now };
    expect(fault(() => checkClaims(base, checks))).toBe('accepted');
    expect(fault(() => checkClaims({ ...base, aud: ['x', 'https://b/token'] }, checks))).toBe('accepted');
    expect(fault(() => checkClaims({ ...base, aud: 'x' }, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, aud: ['x'] }, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, iss: 'b' }, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, sub: 'b' }, checks))).toBe('claim');
    const { jti: _, ...noJti } = base;
    expect(fault(() => checkClaims(noJti, checks))).toBe('claim');
    const { exp: __, ...noExp } = base;
    expect(fault(() => checkClaims(noExp, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, exp: now }, checks))).toBe('expired');
    expect(fault(() => checkClaims({ ...base, exp: now - 59 }, { ...checks, tolerance: 60 }))).toBe('accepted');
    expect(fault(() => checkClaims({ ...base, exp: String(now + 60) }, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, iat: 'now' }, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, nbf: now + 1 }, checks))).toBe('claim');
    expect(fault(() => checkClaims({ ...base, nbf: now }, checks))).toBe('accepted');
  });

  it('the cached thumbprint of a DPoP key is its RFC 7638 thumbprint, whatever else the JWK carries', async () => {
    const jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const expected = await calculateJwkThumbprint(jwk);
    expect((await importPublicJwk(jwk, 'ES256')).jkt).toBe(expected);
    expect((await importPublicJwk({ y: jwk.y, x: jwk.x, crv: jwk.crv, kty: jwk.kty, kid: 'whatever' }, 'ES256')).jkt).toBe(expected);
    const other = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    expect((await importPublicJwk({ ...jwk, y: other.y }, 'ES256').catch(() => ({ jkt: 'refused' }))).jkt).not.toBe(expected);
  });
});

describe('private_key_jwt key selection', () => {
  const AUD = 'https://stint.example';
  const sign = (key: CryptoKey, header: Record<string, unknown>, jti = crypto.randomUUID()) =>
    new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', ...header }).setIssuer('agt_1').setSubject('agt_1').setAudience(AUD).setIssuedAt(now).setExpirationTime(now + 60).setJti(jti).sign(key);
  const authAs = async (jwks: object[], assertion: string) => {
    const seen = new Set<string>();
    const store = {
      agents: { get: async (id: string) => (id === 'agt_1' ? { id, jwks } : undefined) },
      replay: { consume: async (ns: string, jti: string) => !seen.has(`${ns}/${jti}`) && !!seen.add(`${ns}/${jti}`) },
    };
    const auth = () => authenticateAgent({ clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', clientAssertion: assertion, audiences: [AUD], now: now * 1000, store: store as never });
    return [await auth().then(() => 'accepted', (e) => e.message), await auth().then(() => 'accepted', (e) => e.message)];
  };

  it('uses only registered keys that fit the header (kid, alg, use, key_ops) and refuses a replay', async () => {
    const a = await generateKeyPair('EdDSA', { extractable: true });
    const b = await generateKeyPair('EdDSA', { extractable: true });
    const pa = { ...(await exportJWK(a.publicKey)), kid: 'a' };
    const pb = { ...(await exportJWK(b.publicKey)), kid: 'b' };
    expect(await authAs([pa, pb], await sign(b.privateKey, {}))).toEqual(['accepted', expect.stringMatching(/replay/)]);
    expect((await authAs([pa, pb], await sign(b.privateKey, { kid: 'b' })))[0]).toBe('accepted');
    expect((await authAs([pa, pb], await sign(b.privateKey, { kid: 'a' })))[0]).toMatch(/not signed by a key registered/);
    expect((await authAs([pa, { ...pb, use: 'enc' }], await sign(b.privateKey, {})))[0]).toMatch(/not signed by a key registered/);
    expect((await authAs([pa, { ...pb, alg: 'ES256' }], await sign(b.privateKey, {})))[0]).toMatch(/not signed by a key registered/);
    expect((await authAs([pa, { ...pb, key_ops: ['encrypt'] }], await sign(b.privateKey, {})))[0]).toMatch(/not signed by a key registered/);
    expect((await authAs([pa, { ...pb, alg: 'EdDSA', use: 'sig', key_ops: ['verify'] }], await sign(b.privateKey, {})))[0]).toBe('accepted');
  });
});

describe('base64url on the hot path', () => {
  it('b64url and fromB64url agree with jose, and fromB64url refuses what is not unpadded base64url', async () => {
    const { b64url, fromB64url } = await import('../src/core/encoding.js');
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(b64url(bytes)).toBe(base64url.encode(bytes));
      expect([...fromB64url(base64url.encode(bytes))]).toEqual([...bytes]);
    }
    expect(b64url('é€😀')).toBe(base64url.encode('é€😀'));
    for (const bad of ['abcde', 'ab=', 'a+b/', 'ab cd', 'YQ==']) expect(() => fromB64url(bad), bad).toThrow();
  });
});
