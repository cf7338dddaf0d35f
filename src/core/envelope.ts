import { base64url } from 'jose';
import { sha256 } from './encoding.js';
import type { Sealer, SecretBox } from './ports.js';

/**
 * Envelope sealing. Each secret gets its own data key; the data key is wrapped by the master
 * key. Rotating the master key re-wraps 32-byte data keys and never touches the secrets:
 * `v2.<master key id>.<wrapped data key>.<sealed secret>` (base64url, secretbox both times).
 * `v1.<box>` (a secret sealed directly under the master key) is still opened.
 */
export function createEnvelopeSealer(box: SecretBox, master: Uint8Array, previous: Uint8Array[] = []): Sealer {
  for (const k of [master, ...previous]) if (k.length !== 32) throw new Error('master keys are 32 bytes');
  const idOf = (k: Uint8Array) => sha256(k).slice(0, 16);
  const keys = new Map([master, ...previous].map((k) => [idOf(k), k] as const));
  const currentId = idOf(master);
  const b64 = base64url.encode;
  const unb64 = base64url.decode;

  const parts = (sealed: string) => {
    const [v, id, wrapped, body] = sealed.split('.');
    if (v !== 'v2' || !id || !wrapped || !body) throw new Error('unknown sealed format');
    const kek = keys.get(id);
    if (!kek) throw new Error('sealed under a master key that is not configured');
    return { id, kek, dek: box.open(kek, unb64(wrapped)), body };
  };

  return {
    async seal(plaintext) {
      const dek = crypto.getRandomValues(new Uint8Array(32));
      try {
        return `v2.${currentId}.${b64(box.seal(master, dek))}.${b64(box.seal(dek, plaintext))}`;
      } finally {
        dek.fill(0);
      }
    },
    async open(sealed) {
      if (sealed.startsWith('v1.')) {
        for (const k of keys.values()) {
          try {
            return box.open(k, unb64(sealed.slice(3)));
          } catch {
            // try the next key
          }
        }
        throw new Error('sealed secret does not open under any configured master key');
      }
      const { dek, body } = parts(sealed);
      try {
        return box.open(dek, unb64(body));
      } finally {
        dek.fill(0);
      }
    },
    async rewrap(sealed) {
      if (sealed.startsWith('v1.')) return this.seal(await this.open(sealed));
      const { id, dek, body } = parts(sealed);
      if (id === currentId) return undefined;
      try {
        return `v2.${currentId}.${b64(box.seal(master, dek))}.${body}`;
      } finally {
        dek.fill(0);
      }
    },
  };
}
