import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { freePort, startStint } from './helpers/process.js';

// The contract's flow driven by a standard OAuth client, over real HTTP, unchanged:
// private_key_jwt, DPoP, client_credentials with RAR, RFC 8693 token exchange, and the
// capability token accepted by oauth4webapi's resource-side validateJwtAccessToken.
// Against `npm start`, or the two Workers with STINT_E2E_RUNTIME=worker.

const ADMIN = 'e2e-admin-token-0123456789';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let issuer: string;
let close: () => Promise<void>;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'stint-oauth4webapi-'));
  const stint = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(await freePort()), STINT_ISSUER: issuer, STINT_ADMIN_TOKEN: ADMIN });
  close = async () => void (await stint.stop());
  as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }));
});
afterAll(() => close?.());

async function operator(path: string, body: unknown) {
  const res = await fetch(`${issuer}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as Record<string, string>;
}

describe('oauth4webapi against stint', () => {
  it('runs the whole contract flow and the resource validator accepts the capability token', async () => {
    const agentKeys = await oauth.generateKeyPair('EdDSA');
    const { client_id } = await operator('/v1/agents', { name: 'e2e-agent', owner: 'alice', jwks: { keys: [await exportJWK(agentKeys.publicKey)] }, templates: ['fix-credentials'] });
    const client: oauth.Client = { client_id: client_id! };
    const clientAuth = oauth.PrivateKeyJwt(agentKeys.privateKey);
    const dpopKeys = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, dpopKeys);

    // 1. Open a task.
    const taskRes = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      clientAuth,
      { authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'rotate credentials' }]) },
      { DPoP, ...insecure },
    );
    const task = await oauth.processClientCredentialsResponse(as, client, taskRes);
    expect(task.token_type).toBe('dpop');
    expect(task.authorization_details?.[0]).toMatchObject({ type: 'stint_task', environment: 'staging', ceiling: ['config.read', 'config.write', 'aws.s3.read'] });

    // 2. Exchange it for a capability.
    const capRes = await oauth.genericTokenEndpointRequest(
      as,
      client,
      clientAuth,
      'urn:ietf:params:oauth:grant-type:token-exchange',
      { subject_token: task.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'config.write' },
      { DPoP, ...insecure },
    );
    const cap = await oauth.processGenericTokenEndpointResponse(as, client, capRes);
    expect(cap.token_type).toBe('dpop');
    expect(cap.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');

    // 3. Call the resource; the resource validates with oauth4webapi's own validator.
    const audience = 'https://api.staging.example/config';
    let claims: oauth.JWTAccessTokenClaims | undefined;
    const resource = async (url: string, init: oauth.CustomFetchOptions<'POST', unknown>) => {
      const request = new Request(url, { method: init.method, headers: init.headers as HeadersInit, body: init.body as BodyInit });
      claims = await oauth.validateJwtAccessToken(as, request, audience, { requireDPoP: true, signingAlgorithms: ['EdDSA', 'ES256'], ...insecure });
      return new Response('{"ok":true}', { headers: { 'Content-Type': 'application/json' } });
    };
    const res = await oauth.protectedResourceRequest(cap.access_token, 'POST', new URL(audience), new Headers(), '{}', {
      DPoP,
      [oauth.customFetch]: resource as never,
    });
    expect(res.status).toBe(200);
    expect(claims).toMatchObject({ iss: issuer, sub: client_id, aud: audience, client_id, task_id: task.task_id, env: 'staging', scope: 'config.write' });
    expect(claims!.cnf!.jkt).toBe(await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey)));

    // 4. The resource service introspects (client_secret_basic), then the agent revokes.
    const rs = await operator('/v1/resources', { name: 'config-api', audience });
    const rsClient: oauth.Client = { client_id: rs.client_id! };
    const intro = async () =>
      oauth.processIntrospectionResponse(as, rsClient, await oauth.introspectionRequest(as, rsClient, oauth.ClientSecretBasic(rs.client_secret!), cap.access_token, insecure));
    expect((await intro()).active).toBe(true);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, cap.access_token, insecure));
    expect((await intro()).active).toBe(false);
  });

  it('surfaces stint refusals as OAuth errors the client parses', async () => {
    const agentKeys = await oauth.generateKeyPair('EdDSA');
    const { client_id } = await operator('/v1/agents', { name: 'e2e-2', owner: 'bob', jwks: { keys: [await exportJWK(agentKeys.publicKey)] }, templates: ['fix-credentials'] });
    const client: oauth.Client = { client_id: client_id! };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('EdDSA'));
    const res = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.PrivateKeyJwt(agentKeys.privateKey),
      { authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'production', purpose: 'x' }]) },
      { DPoP, ...insecure },
    );
    await expect(oauth.processClientCredentialsResponse(as, client, res)).rejects.toMatchObject({ error: 'invalid_authorization_details', status: 400 });
  });
});
