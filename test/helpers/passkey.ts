import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { ApprovalCore } from '../../src/core/approvals/types.js';

// A software passkey for tests that need no browser: a P-256 key registered straight into the
// approval store (as an enrolment would leave it) that answers WebAuthn assertion options the
// way an authenticator does (clientDataJSON, authenticatorData with UP and UV, an ECDSA
// signature over both). The browser suite covers the real ceremonies.

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');

/** The key's COSE form (RFC 9053 EC2, ES256), CBOR by hand: a map of five entries. */
function cose(x: Buffer, y: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), x, Buffer.from([0x22, 0x58, 0x20]), y]);
}

export interface SoftPasskey {
  kid: string;
  approverId: string;
  /** Answers assertion options (from `/console/…/options`) for `origin`, as the browser would post it. */
  assert(options: { challenge: string; rpId?: string }, origin: string): Record<string, unknown>;
}

export async function softPasskey(core: ApprovalCore, approverId: string, kid = `pk_${crypto.randomUUID()}`): Promise<SoftPasskey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  await core.approvals.keys.add({
    kid: b64u(Buffer.from(kid)),
    approverId,
    kind: 'passkey',
    jwk: null,
    publicKey: b64u(cose(Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'))),
    counter: 0,
    transports: null,
    createdAt: core.clock.now(),
    retiredAt: null,
  });
  return withKey(b64u(Buffer.from(kid)), approverId, privateKey);
}

function withKey(kid: string, approverId: string, privateKey: KeyObject): SoftPasskey {
  let counter = 0;
  return {
    kid,
    approverId,
    assert(options, origin) {
      const rpId = options.rpId ?? new URL(origin).hostname;
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
      const count = Buffer.alloc(4);
      count.writeUInt32BE(++counter);
      const authenticatorData = Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([0x05]), count]);
      const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), privateKey);
      return {
        id: kid,
        rawId: kid,
        type: 'public-key',
        response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authenticatorData), signature: b64u(signature) },
        clientExtensionResults: {},
      };
    },
  };
}
