import sodium from 'libsodium-wrappers';
import type { Sealer } from '../../core/ports.js';

/**
 * Sealing with libsodium's secretbox (XSalsa20-Poly1305) under the 32-byte master key.
 * Format: `v1.` + base64url(nonce ‖ box). The version prefix leaves room for envelope keys.
 */
export async function createSodiumSealer(masterKey: Uint8Array): Promise<Sealer> {
  await sodium.ready;
  if (masterKey.length !== sodium.crypto_secretbox_KEYBYTES) {
    throw new Error(`STINT_MASTER_KEY must be ${sodium.crypto_secretbox_KEYBYTES} bytes (base64)`);
  }
  const key = Uint8Array.from(masterKey);
  const b64 = sodium.base64_variants.URLSAFE_NO_PADDING;
  return {
    async seal(plaintext) {
      const nonce = sodium.randombytes_buf(sodium.crypto_secretbox_NONCEBYTES);
      const box = sodium.crypto_secretbox_easy(plaintext, nonce, key);
      const out = new Uint8Array(nonce.length + box.length);
      out.set(nonce);
      out.set(box, nonce.length);
      return `v1.${sodium.to_base64(out, b64)}`;
    },
    async open(sealed) {
      if (!sealed.startsWith('v1.')) throw new Error('unknown sealed format');
      const raw = sodium.from_base64(sealed.slice(3), b64);
      const nonce = raw.subarray(0, sodium.crypto_secretbox_NONCEBYTES);
      return sodium.crypto_secretbox_open_easy(raw.subarray(sodium.crypto_secretbox_NONCEBYTES), nonce, key);
    },
  };
}
