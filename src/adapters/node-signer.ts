import { KeyObject, sign } from 'node:crypto';
import type { SignerFactory } from '../core/keys.js';

/**
 * Ed25519 signing with node:crypto, synchronously on the calling thread. One signature costs
 * ≈43 µs here; through WebCrypto the same signature costs the main thread more than that in
 * job set-up and promise hand-off (measured 52–87 µs) on top of the thread-pool's work.
 * Verification stays on WebCrypto, where the thread pool takes the larger share.
 */
export const nodeSigner: SignerFactory = (privateKey) => {
  const key = KeyObject.from(privateKey);
  return (data) => sign(null, data, key);
};
