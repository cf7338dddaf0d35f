// Regenerates test/vectors/sealing.json: boxes made by libsodium and by @noble/ciphers.
import { writeFileSync } from 'node:fs';
import { createSodiumSealer, sodiumSecretBox } from '../src/adapters/sealing/libsodium.js';
import { nobleSecretBox, createNobleSealer } from '../src/adapters/sealing/noble.js';
const key = new Uint8Array(32).map((_, i) => i + 1);
const prev = new Uint8Array(32).map((_, i) => 200 - i);
const sodium = await sodiumSecretBox();
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64url');
const vectors = {
  description: 'Boxes made by libsodium and by @noble/ciphers under the same keys: each implementation must open all of them (test/sealing-interop.test.ts in Node, test/workers/sealing.test.ts in workerd).',
  master_key: b64(key),
  previous_master_key: b64(prev),
  secretbox: [
    { by: 'libsodium', plaintext: 'stint secretbox vector', box: b64(sodium.seal(key, new TextEncoder().encode('stint secretbox vector'))) },
    { by: 'noble', plaintext: 'stint secretbox vector', box: b64(nobleSecretBox.seal(key, new TextEncoder().encode('stint secretbox vector'))) },
  ],
  envelope: [
    { by: 'libsodium', plaintext: '{"access_key_id":"AKIAVECTOR","secret_access_key":"vector"}', sealed: await (await createSodiumSealer(key)).seal(new TextEncoder().encode('{"access_key_id":"AKIAVECTOR","secret_access_key":"vector"}')) },
    { by: 'noble', plaintext: '{"d":"private-key-vector"}', sealed: await createNobleSealer(key).seal(new TextEncoder().encode('{"d":"private-key-vector"}')) },
    { by: 'libsodium, under the previous key', plaintext: 'rotated', sealed: await (await createSodiumSealer(prev)).seal(new TextEncoder().encode('rotated')) },
  ],
};
writeFileSync(new URL('../test/vectors/sealing.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n');
