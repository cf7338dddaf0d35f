import { generateKeyPair, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { nodeSigner } from '../src/adapters/node-signer.js';
import { webCryptoSigner } from '../src/core/keys.js';
import { testBroker } from './helpers/broker.js';
import { FrozenClock } from './helpers/clock.js';

describe('token signers', () => {
  it('node:crypto and WebCrypto give the same Ed25519 signature (it is deterministic)', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const data = new TextEncoder().encode('header.payload');
    const a = await nodeSigner(privateKey)(data);
    const b = await webCryptoSigner(privateKey)(data);
    expect(a.length).toBe(64);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('the Node broker signs tokens that jose verifies with the published key', async () => {
    const b = await testBroker({ clock: new FrozenClock(Date.now()) });
    const agent = await b.registerAgent();
    const task = await agent.openTask();
    const token = task.body.access_token as string;
    const { payload, protectedHeader } = await jwtVerify(token, b.core.keys.publicKey(b.core.keys.kid)!, { typ: 'at+jwt', currentDate: new Date(b.core.clock.now()) });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: b.core.keys.kid });
    expect(payload.token_use).toBe('task');
  });
});
