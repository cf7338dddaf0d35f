import sodium from 'libsodium-wrappers';
import { createEnvelopeSealer } from '../../core/envelope.js';
import type { Sealer, SecretBox } from '../../core/ports.js';

/** libsodium's crypto_secretbox (XSalsa20-Poly1305): nonce ‖ box. */
export async function sodiumSecretBox(): Promise<SecretBox> {
  await sodium.ready;
  const N = sodium.crypto_secretbox_NONCEBYTES;
  return {
    seal(key, plaintext) {
      const nonce = sodium.randombytes_buf(N);
      const box = sodium.crypto_secretbox_easy(plaintext, nonce, key);
      const out = new Uint8Array(N + box.length);
      out.set(nonce);
      out.set(box, N);
      return out;
    },
    open(key, data) {
      return sodium.crypto_secretbox_open_easy(data.subarray(N), data.subarray(0, N), key);
    },
  };
}

/** Envelope sealing under `masterKey` on libsodium; `previous` master keys still open. */
export async function createSodiumSealer(masterKey: Uint8Array, previous: Uint8Array[] = []): Promise<Sealer> {
  return createEnvelopeSealer(await sodiumSecretBox(), Uint8Array.from(masterKey), previous.map((k) => Uint8Array.from(k)));
}
