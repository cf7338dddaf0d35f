import type { AnyRule } from '../../src/core/rules/registry.js';
import type { AwsApi } from '../../src/core/providers/aws/provider.js';
import type { Policy } from '../../src/core/policy.js';
import type { RateLimitOptions } from '../../src/http/rate-limit.js';
import type { RequestLogger } from '../../src/http/observability.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { assertion, dpopProof, newKey, type KeyPair } from './agent.js';
import { FrozenClock } from './clock.js';
import { defaultPolicy } from './policy.js';

export const ISSUER = 'http://localhost:8787';
export const ADMIN = 'test-admin-token-0123456789';
export const TASK_DETAILS = (template = 'fix-credentials', environment = 'staging', purpose = 'rotate the staging DB password') =>
  JSON.stringify([{ type: 'stint_task', template, environment, purpose }]);

export interface TokenOpts {
  dpop?: KeyPair | null;
  htu?: string;
  proof?: string;
  assertionJti?: string;
  assertionKey?: KeyPair;
}

/** A broker on an in-memory database with a frozen clock, driven through `app.request()`. */
export async function testBroker(
  opts: { clock?: FrozenClock; dbPath?: string; setFetch?: typeof fetch; approvalUrl?: string; approvalFetch?: typeof fetch; policy?: Policy; aws?: AwsApi; rules?: readonly AnyRule[]; rateLimit?: RateLimitOptions | false; requestLog?: RequestLogger } = {},
) {
  const clock = opts.clock ?? new FrozenClock();
  const broker = await createNodeBroker({
    dbPath: opts.dbPath ?? ':memory:',
    policy: opts.policy ?? defaultPolicy(),
    aws: opts.aws,
    awsRetryDelaysMs: [0, 0, 0],
    rules: opts.rules,
    issuer: ISSUER,
    adminToken: ADMIN,
    masterKey: new Uint8Array(32).fill(1),
    clock,
    setFetch: opts.setFetch,
    approvalUrl: opts.approvalUrl,
    approvalFetch: opts.approvalFetch,
    // Off unless a test asks for it: a frozen clock never refills a bucket.
    rateLimit: opts.rateLimit ?? false,
    requestLog: opts.requestLog,
  });
  const nowSec = () => Math.floor(clock.now() / 1000);

  const request = (path: string, init: RequestInit = {}) => broker.app.request(`${ISSUER}${path}`, init);

  const admin = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
    request(path, {
      method,
      headers: { Authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function registerAgent(o: { name?: string; owner?: string; templates?: string[]; alg?: 'EdDSA' | 'ES256' } = {}) {
    const key = await newKey(o.alg);
    const res = await admin('/v1/agents', {
      name: o.name ?? 'coder-1',
      owner: o.owner ?? 'alice',
      jwks: { keys: [key.publicJwk] },
      templates: o.templates ?? ['fix-credentials'],
    });
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
    const { client_id } = (await res.json()) as { client_id: string };
    return agentClient(client_id, key);
  }

  /** An agent that can call the token endpoint with private_key_jwt and DPoP. */
  function agentClient(clientId: string, key: KeyPair): AgentClient {
    let dpopKey: Promise<KeyPair> | undefined;
    const getDpop = () => (dpopKey ??= newKey());
    return {
      clientId,
      key,
      dpopKey: getDpop,
      async token(params: Record<string, string>, o: TokenOpts = {}) {
        const body = new URLSearchParams({
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion(o.assertionKey ?? key, clientId, ISSUER, { nowSec: nowSec(), jti: o.assertionJti }),
          ...params,
        });
        const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
        if (o.dpop !== null) {
          headers.DPoP = o.proof ?? (await dpopProof(o.dpop ?? (await getDpop()), 'POST', o.htu ?? `${ISSUER}/token`, { nowSec: nowSec() }));
        }
        const res = await request('/token', { method: 'POST', headers, body });
        return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
      },
      openTask(template?: string, environment?: string, o: TokenOpts = {}) {
        return this.token({ grant_type: 'client_credentials', authorization_details: TASK_DETAILS(template, environment) }, o);
      },
      exchange(taskToken: string, params: Record<string, string>, o: TokenOpts = {}) {
        return this.token(
          {
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: taskToken,
            subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            ...params,
          },
          o,
        );
      },
      /** A DPoP-bound call to the management API with a token this agent holds. */
      async call(method: string, path: string, token: string, o: { dpop?: KeyPair } = {}) {
        const proof = await dpopProof(o.dpop ?? (await getDpop()), method, `${ISSUER}${path}`, { nowSec: nowSec(), accessToken: token });
        return request(path, { method, headers: { Authorization: `DPoP ${token}`, DPoP: proof } });
      },
    };
  }

  const form = (path: string, params: Record<string, string>, auth: string) =>
    request(path, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });

  const introspect = async (token: string, auth = `Bearer ${ADMIN}`) => (await (await form('/introspect', { token }, auth)).json()) as Record<string, any>;

  return { ...broker, clock, nowSec, request, admin, form, introspect, registerAgent, agentClient };
}

export type TestBroker = Awaited<ReturnType<typeof testBroker>>;

export interface TokenResult {
  status: number;
  body: Record<string, any>;
  headers?: Headers;
}

export interface AgentClient {
  clientId: string;
  key: KeyPair;
  dpopKey(): Promise<KeyPair>;
  token(params: Record<string, string>, o?: TokenOpts): Promise<TokenResult>;
  openTask(template?: string, environment?: string, o?: TokenOpts): Promise<TokenResult>;
  exchange(taskToken: string, params: Record<string, string>, o?: TokenOpts): Promise<TokenResult>;
  call(method: string, path: string, token: string, o?: { dpop?: KeyPair }): Promise<Response>;
}
