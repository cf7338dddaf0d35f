import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { listen } from '../../src/runtime/node/serve.js';
import { assertion, dpopProof, newKey, type KeyPair } from './agent.js';
import { defaultPolicy } from './policy.js';
import { freePort } from './process.js';

export const LIVE_ADMIN = 'live-admin-token-0123456789';

/** A broker listening on a real port (event streams need one), with helpers to drive it. */
export async function liveBroker(o: { heartbeatMs?: number } = {}) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const broker = await createNodeBroker({ dbPath: ':memory:', policy: defaultPolicy(), issuer, adminToken: LIVE_ADMIN, masterKey: new Uint8Array(32).fill(3), heartbeatMs: o.heartbeatMs ?? 200 });
  const server = await listen(broker.app, '127.0.0.1', port);
  const now = () => Math.floor(Date.now() / 1000);

  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${issuer}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${LIVE_ADMIN}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  async function agent(name: string, templates: string[]) {
    const key = await newKey();
    const dpop = await newKey();
    const { body } = await admin('/v1/agents', { name, owner: `${name}-owner`, jwks: { keys: [key.publicJwk] }, templates });
    const clientId = body.client_id as string;
    const token = async (params: Record<string, string>, proofKey: KeyPair = dpop) => {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(proofKey, 'POST', `${issuer}/token`, { nowSec: now() }) },
        body: new URLSearchParams({
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(key, clientId, issuer, { nowSec: now() }),
          ...params,
        }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    return {
      clientId,
      dpop,
      token,
      openTask: (template: string, environment: string) =>
        token({ grant_type: 'client_credentials', authorization_details: JSON.stringify([{ type: 'stint_task', template, environment, purpose: `${name} work` }]) }),
      exchange: (taskToken: string, scope: string, proofKey?: KeyPair) =>
        token({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: taskToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope }, proofKey),
    };
  }

  const resource = async (audience: string) => (await admin('/v1/resources', { name: audience, audience })).body as { client_id: string; client_secret: string };

  /** A request to a resource service carrying a capability token and a proof by `key`. */
  const call = async (url: string, token: string, key: KeyPair, method = 'POST') =>
    new Request(url, { method, headers: { Authorization: `DPoP ${token}`, DPoP: await dpopProof(key, method, url, { nowSec: now(), accessToken: token }) } });

  return { issuer, broker, admin, agent, resource, call, close: async () => (await server.close(), broker.close()) };
}
