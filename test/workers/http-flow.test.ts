import { SELF } from 'cloudflare:test';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { assertion, dpopProof, newKey } from '../../src/client/proofs.js';

// The contract's flow through the broker Worker (D1, noble sealing) inside workerd.
const ISSUER = 'http://localhost:8787';
const ADMIN = 'workers-admin-token-0123456789';
const now = () => Math.floor(Date.now() / 1000);

async function token(clientId: string, key: Awaited<ReturnType<typeof newKey>>, dpop: Awaited<ReturnType<typeof newKey>>, params: Record<string, string>) {
  const res = await SELF.fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(dpop, 'POST', `${ISSUER}/token`, { nowSec: now() }) },
    body: new URLSearchParams({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(key, clientId, ISSUER, { nowSec: now() }),
      ...params,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('the broker Worker', () => {
  it('serves metadata and a JWKS with a key it generated and sealed in D1', async () => {
    const meta = (await (await SELF.fetch(`${ISSUER}/.well-known/oauth-authorization-server`)).json()) as any;
    expect(meta.issuer).toBe(ISSUER);
    const jwks = (await (await SELF.fetch(`${ISSUER}/.well-known/jwks.json`)).json()) as any;
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  });

  it('registers an agent, opens a task, exchanges it for a capability, introspects, refuses outside the ceiling', async () => {
    const key = await newKey();
    const dpop = await newKey();
    const reg = await SELF.fetch(`${ISSUER}/v1/agents`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'edge-agent', owner: 'alice', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] }),
    });
    expect(reg.status).toBe(201);
    const { client_id } = (await reg.json()) as { client_id: string };
    const task = await token(client_id, key, dpop, {
      grant_type: 'client_credentials',
      authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'edge' }]),
    });
    expect(task.status).toBe(200);
    const exchange = (scope: string) =>
      token(client_id, key, dpop, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: task.body.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope,
      });
    const cap = await exchange('config.read');
    expect(cap.status).toBe(200);
    expect(decodeProtectedHeader(cap.body.access_token).typ).toBe('at+jwt');
    const intro = await SELF.fetch(`${ISSUER}/introspect`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: cap.body.access_token }),
    });
    expect(((await intro.json()) as any)).toMatchObject({ active: true, env: 'staging', scope: 'config.read' });
    expect((await exchange('db.read')).body.error).toBe('invalid_authorization_details');
    const verify = (await (await SELF.fetch(`${ISSUER}/v1/audit/verify`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json()) as any;
    expect(verify.ok).toBe(true);
  });
});
