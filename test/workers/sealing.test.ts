import { base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import vectors from '../vectors/sealing.json' with { type: 'json' };
import { createNobleSealer, nobleSecretBox } from '../../src/adapters/sealing/noble.js';

// Inside workerd, where libsodium's Wasm cannot be compiled: noble opens libsodium's boxes.
describe('sealing in workerd', () => {
  const key = base64url.decode(vectors.master_key);
  const sealer = createNobleSealer(key, [base64url.decode(vectors.previous_master_key)]);
  it('opens every shared vector', async () => {
    for (const v of vectors.secretbox) expect(new TextDecoder().decode(nobleSecretBox.open(key, base64url.decode(v.box)))).toBe(v.plaintext);
    for (const v of vectors.envelope) expect(new TextDecoder().decode(await sealer.open(v.sealed))).toBe(v.plaintext);
  });
});
