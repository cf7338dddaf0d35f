import { SELF } from 'cloudflare:test';
import { assertion, dpopProof, newKey } from '../../src/client/proofs.js';

// Shared by the Workers tests: an agent registered and a task opened, over the broker Worker.
export const ISSUER = 'http://localhost:8787';
export const ADMIN = 'workers-admin-token-0123456789';
const now = () => Math.floor(Date.now() / 1000);

/** An operator call: POST with a JSON body, or GET without one. */
export const admin = (path: string, body?: unknown) =>
  SELF.fetch(`${ISSUER}${path}`, { method: body ? 'POST' : 'GET', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });

/** Registers an agent named `name` and opens a staging task for it; the token response. */
export async function openTask(name: string): Promise<{ access_token: string; task_id: string; client_id: string; dpop: Awaited<ReturnType<typeof newKey>> }> {
  const key = await newKey();
  const dpop = await newKey();
  const { client_id } = (await (await admin('/v1/agents', { name, owner: 'o', jwks: { keys: [key.publicJwk] }, templates: ['fix-credentials'] })).json()) as { client_id: string };
  const res = await SELF.fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(dpop, 'POST', `${ISSUER}/token`, { nowSec: now() }) },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(key, client_id, ISSUER, { nowSec: now() }),
      authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: name }]),
    }),
  });
  return { ...((await res.json()) as { access_token: string; task_id: string }), client_id, dpop };
}
