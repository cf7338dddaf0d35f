import { base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import vectors from './vectors/sealing.json' with { type: 'json' };
import { createSodiumSealer, sodiumSecretBox } from '../src/adapters/sealing/libsodium.js';
import { createNobleSealer, nobleSecretBox } from '../src/adapters/sealing/noble.js';

const key = base64url.decode(vectors.master_key);
const prev = base64url.decode(vectors.previous_master_key);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('libsodium (Node) and @noble/ciphers (Workers) open each other’s boxes', async () => {
  const sodium = await sodiumSecretBox();
  const sealers = { libsodium: await createSodiumSealer(key, [prev]), noble: createNobleSealer(key, [prev]) };
  for (const v of vectors.secretbox) {
    it(`secretbox made by ${v.by}`, () => {
      expect(text(sodium.open(key, base64url.decode(v.box)))).toBe(v.plaintext);
      expect(text(nobleSecretBox.open(key, base64url.decode(v.box)))).toBe(v.plaintext);
    });
  }
  for (const v of vectors.envelope) {
    it(`envelope made by ${v.by}`, async () => {
      for (const s of Object.values(sealers)) expect(text(await s.open(v.sealed))).toBe(v.plaintext);
    });
  }
  it('fresh boxes cross over both ways', async () => {
    const a = await sealers.libsodium.seal(new TextEncoder().encode('from node'));
    const b = await sealers.noble.seal(new TextEncoder().encode('from workers'));
    expect(text(await sealers.noble.open(a))).toBe('from node');
    expect(text(await sealers.libsodium.open(b))).toBe('from workers');
  });
  it('a tampered box does not open', async () => {
    const box = base64url.decode(vectors.secretbox[0]!.box);
    box[box.length - 1]! ^= 1;
    expect(() => nobleSecretBox.open(key, box)).toThrow();
    expect(() => sodium.open(key, box)).toThrow();
  });
});
