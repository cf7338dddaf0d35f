import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { b64url, utf8 } from './encoding.js';
import type { Clock, Sealer, SigningKeyRecord, Store } from './ports.js';

export const SIGNING_ALG = 'EdDSA';

/**
 * Makes the signing function for a private Ed25519 key. The default is WebCrypto (every
 * runtime); Node passes a synchronous one (src/adapters/node-signer.ts).
 */
export type SignerFactory = (privateKey: CryptoKey) => (data: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>;

export const webCryptoSigner: SignerFactory = (key) => async (data) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, data));

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  publicKey: CryptoKey;
}

/**
 * The signing keys of one authority (`use`: `task` for the broker's tokens, `approval` for the
 * approval authority). Keys are generated on first start and stored sealed; the newest signs,
 * older ones keep verifying until removed, so a new key can be added without breaking tokens
 * already out (`kid` = RFC 7638 thumbprint).
 */
export class KeyRing {
  private constructor(
    readonly use: string,
    private readonly signingKey: { kid: string; key: CryptoKey },
    private readonly verifying: Map<string, LoadedKey>,
    private readonly signBytes: (data: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>,
  ) {}

  static async load(store: Store, sealer: Sealer, use: string, clock: Clock, signer: SignerFactory = webCryptoSigner): Promise<KeyRing> {
    let records = await store.keys.list(use);
    if (records.length === 0) {
      await store.keys.add(await generateRecord(sealer, use, clock));
      records = await store.keys.list(use);
    }
    const verifying = new Map<string, LoadedKey>();
    // A row's public half is trusted only if its sealed private half opens under the master key
    // and is that public key's pair: someone who can write the database but holds no master key
    // could otherwise add a verifying key of their own (a copy of a genuine sealed blob beside
    // their public JWK) and have its tokens accepted and its audit checkpoints believed.
    for (const r of records) {
      if (!(await holdsItsPair(sealer, r)) || r.alg !== SIGNING_ALG) continue;
      verifying.set(r.kid, { kid: r.kid, publicJwk: r.publicJwk, publicKey: (await importJWK(r.publicJwk, r.alg)) as CryptoKey });
    }
    const newest = records[0]!;
    if (!verifying.has(newest.kid)) throw new Error(`the newest ${use} signing key (${newest.kid}) is not a key pair sealed under the master key`);
    const privateJwk = JSON.parse(new TextDecoder().decode(await sealer.open(newest.sealedPrivate))) as JWK;
    const key = (await importJWK(privateJwk, newest.alg)) as CryptoKey;
    return new KeyRing(use, { kid: newest.kid, key }, verifying, signer(key));
  }

  get kid(): string {
    return this.signingKey.kid;
  }

  get privateKey(): CryptoKey {
    return this.signingKey.key;
  }

  private readonly headers = new Map<string, string>();

  /**
   * A compact JWS (RFC 7515) of `payload` by the current key, `typ` in its header. Built here
   * rather than with jose's SignJWT because it is on every issuance and SignJWT's per-call
   * copying and checks cost ≈10–25 µs of main thread per token on this machine; the payload
   * is always our own claims object. Every verifier (jose, oauth4webapi) reads the result.
   */
  async sign(typ: string, payload: object): Promise<string> {
    let header = this.headers.get(typ);
    if (!header) this.headers.set(typ, (header = b64url(JSON.stringify({ alg: SIGNING_ALG, typ, kid: this.kid }))));
    const input = `${header}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(await this.signBytes(utf8(input) as Uint8Array<ArrayBuffer>))}`;
  }

  publicKey(kid: string): CryptoKey | undefined {
    return this.verifying.get(kid)?.publicKey;
  }

  /** Public JWKs for `/.well-known/jwks.json`. */
  publicJwks(): JWK[] {
    return [...this.verifying.values()].map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALG, use: 'sig' }));
  }
}

/** Whether the record's sealed private key opens and is the private half of its public key. */
async function holdsItsPair(sealer: Sealer, r: SigningKeyRecord): Promise<boolean> {
  try {
    const priv = JSON.parse(new TextDecoder().decode(await sealer.open(r.sealedPrivate))) as JWK;
    return typeof priv.d === 'string' && priv.kty === r.publicJwk.kty && priv.crv === r.publicJwk.crv && priv.x === r.publicJwk.x;
  } catch {
    return false;
  }
}

async function generateRecord(sealer: Sealer, use: string, clock: Clock): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  // Keys are told apart by kid: the broker's are bare thumbprints, others carry their use.
  const thumb = await calculateJwkThumbprint(publicJwk);
  const kid = use === 'task' ? thumb : `${use}.${thumb}`;
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg: SIGNING_ALG,
    use,
    publicJwk: { ...publicJwk, kid },
    sealedPrivate: await sealer.seal(utf8(JSON.stringify(privateJwk))),
    createdAt: clock.now(),
  };
}
