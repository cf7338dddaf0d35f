import { assertion, dpopProof, type KeyPair } from '../../src/client/proofs.js';
import type { AgentClient } from '../../src/client/agent.js';
import type { LoadSpec } from './load.js';

type Req = LoadSpec['requests'][number];

/** Token requests signed ahead of time: a fresh assertion and DPoP proof each (both single-use). */
export async function presignTokenRequests(o: {
  n: number;
  issuer: string;
  /** The URL the server sees (the `htu`). */
  tokenUrl: string;
  path: string;
  clientId: string;
  key: KeyPair;
  dpop: KeyPair;
  params: Record<string, string>;
  /** Assertion audience (the issuer, or the token endpoint for servers that want it). */
  aud?: string;
}): Promise<Req[]> {
  const now = Math.floor(Date.now() / 1000);
  const out: Req[] = [];
  const batch = 256;
  for (let i = 0; i < o.n; i += batch) {
    const part = await Promise.all(
      Array.from({ length: Math.min(batch, o.n - i) }, async () => {
        const body = new URLSearchParams({
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(o.key, o.clientId, o.aud ?? o.issuer, { nowSec: now, ttl: 280 }),
          client_id: o.clientId,
          ...o.params,
        }).toString();
        return {
          method: 'POST',
          path: o.path,
          headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(o.dpop, 'POST', o.tokenUrl, { nowSec: now }) },
          body,
        };
      }),
    );
    out.push(...part);
  }
  return out;
}

/** Resource requests with a DPoP proof each, for `token`. */
export async function presignResourceRequests(o: { n: number; url: string; token: string; dpop: KeyPair; method?: string }): Promise<Req[]> {
  const now = Math.floor(Date.now() / 1000);
  const method = o.method ?? 'GET';
  const path = new URL(o.url).pathname;
  const out: Req[] = [];
  for (let i = 0; i < o.n; i += 256) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(256, o.n - i) }, async () => ({
          method,
          path,
          headers: { authorization: `DPoP ${o.token}`, dpop: await dpopProof(o.dpop, method, o.url, { nowSec: now, accessToken: o.token }) },
        })),
      )),
    );
  }
  return out;
}

/**
 * A fresh task for `agent` and a signer of capability-token exchanges for it (`config.read`),
 * each request single-use, as the agent would send them to `issuer`'s token endpoint.
 */
export async function exchangeSigner(agent: AgentClient, issuer: string): Promise<(n: number) => Promise<Req[]>> {
  const task = await agent.openTask('fix-credentials', 'staging', 'benchmark');
  const dpop = await agent.dpopKey();
  const params = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: task.body.access_token as string,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    scope: 'config.read',
  };
  return (n) => presignTokenRequests({ n, issuer, tokenUrl: `${issuer}/token`, path: '/token', clientId: agent.clientId, key: agent.key, dpop, params });
}
