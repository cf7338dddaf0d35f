import { secretbox } from '@noble/ciphers/salsa.js';
import { createEnvelopeSealer } from '../../core/envelope.js';
import type { Sealer, SecretBox } from '../../core/ports.js';

/**
 * XSalsa20-Poly1305 secretbox in pure JS (@noble/ciphers), byte-compatible with libsodium's
 * crypto_secretbox_easy (nonce ‖ MAC ‖ ciphertext). For Workers, where libsodium's Wasm cannot
 * be compiled at run time; shared test vectors prove the two open each other's boxes.
 */
export const nobleSecretBox: SecretBox = {
  seal(key, plaintext) {
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const box = secretbox(key, nonce).seal(plaintext);
    const out = new Uint8Array(24 + box.length);
    out.set(nonce);
    out.set(box, 24);
    return out;
  },
  open(key, data) {
    if (data.length < 24 + 16) throw new Error('sealed box too short');
    return secretbox(key, data.subarray(0, 24)).open(data.subarray(24));
  },
};

export function createNobleSealer(masterKey: Uint8Array, previous: Uint8Array[] = []): Sealer {
  return createEnvelopeSealer(nobleSecretBox, Uint8Array.from(masterKey), previous.map((k) => Uint8Array.from(k)));
}
