// `@stint/agent`: the agent SDK. Plain Web APIs (fetch, crypto.subtle) and jose: no native
// module, so it runs on Node, Deno, Bun and Workers.
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export type Alg = 'EdDSA' | 'ES256';

/** A signing key: the agent's registered key, or the DPoP key a task is bound to. */
export interface AgentKey {
  alg: Alg;
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

/** A key from its private JWK (as `stint keygen` writes it: `{alg, private_jwk, public_jwk}`). */
export async function importAgentKey(file: { alg: Alg; private_jwk: JWK; public_jwk?: JWK } | { alg: Alg; privateJwk: JWK }): Promise<AgentKey> {
  const jwk = 'private_jwk' in file ? file.private_jwk : file.privateJwk;
  const { d: _d, ...pub } = jwk;
  const publicJwk = ('public_jwk' in file && file.public_jwk) || pub;
  return { alg: file.alg, privateKey: (await importJWK(jwk, file.alg)) as CryptoKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** A new key pair (for a task's DPoP key, or an agent to register). */
export async function generateAgentKey(alg: Alg = 'EdDSA'): Promise<AgentKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** An error answered by the broker (RFC 6749 §5.2 or RFC 9457), with its code. */
export class StintAgentError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'StintAgentError';
  }
}

export interface AgentOptions {
  /**
   * Where to reach the broker (the ready line's `broker=` URL, or any address of it). The
   * issuer is discovered from its RFC 8414 metadata unless given.
   */
  url?: string;
  /** The broker's issuer (the assertions' `aud`, the base of DPoP `htu`); default: discovered. */
  issuer?: string;
  /** Where to reach the broker, if not at the issuer URL (the same as `url`). */
  brokerUrl?: string;
  clientId: string;
  /** The agent's registered key (private_key_jwt). */
  key: AgentKey;
  fetch?: typeof fetch;
  /** Seconds before expiry at which a capability is renewed (default 30). */
  refreshSkew?: number;
  /** Clock, ms (tests). */
  now?: () => number;
  /** How to wait between approval polls (tests). */
  sleep?: (ms: number) => Promise<void>;
}

export interface TaskRequest {
  template: string;
  environment: string;
  purpose: string;
}

/** What to ask a capability for: scope names, or RFC 9396 authorization details. */
export type CapabilityRequest =
  | { scope: string | string[]; resource?: string }
  | { authorizationDetails: { type: 'stint_capability'; actions: string[]; locations?: string[] }[]; resource?: string };

export interface Capability {
  accessToken: string;
  expiresAt: number;
  scope?: string;
  raw: Record<string, unknown>;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const CIBA = 'urn:openid:params:grant-type:ciba';

const trim = (u: string) => u.replace(/\/+$/, '');

/** A stint agent: opens tasks with its registered key. */
export class StintAgent {
  readonly brokerUrl: string;
  private known?: string;
  private discovery?: Promise<string>;
  private readonly doFetch: typeof fetch;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;

  constructor(readonly options: AgentOptions) {
    const at = options.url ?? options.brokerUrl ?? options.issuer;
    if (!at) throw new TypeError('StintAgent needs the broker\'s url (or its issuer)');
    this.brokerUrl = trim(at);
    this.known = options.issuer && trim(options.issuer);
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * The broker's issuer: given, or read from its metadata (RFC 8414) at the URL it is reached
   * by. Assertions' `aud` and proofs' `htu` are built from it, never from the address connected
   * to, so `http://127.0.0.1:8787` and `http://localhost:8787` both work.
   */
  issuer(): Promise<string> {
    if (this.known) return Promise.resolve(this.known);
    this.discovery ??= (async () => {
      const url = `${this.brokerUrl}/.well-known/oauth-authorization-server`;
      const res = await this.doFetch(url, { headers: { Accept: 'application/json' } });
      const meta = (await res.json().catch(() => undefined)) as { issuer?: unknown } | undefined;
      if (!res.ok || typeof meta?.issuer !== 'string') throw new StintAgentError(res.status, 'discovery_failed', `${url} did not answer with authorization server metadata`);
      return (this.known = trim(meta.issuer));
    })();
    this.discovery.catch(() => (this.discovery = undefined));
    return this.discovery;
  }

  private sec = () => Math.floor(this.now() / 1000);

  /** A DPoP proof (RFC 9449) by `key` for this method and URL, bound to `accessToken` if given. */
  async proof(key: AgentKey, method: string, url: string, accessToken?: string): Promise<string> {
    const claims: Record<string, unknown> = { htm: method.toUpperCase(), htu: url.split(/[?#]/)[0], jti: crypto.randomUUID(), iat: this.sec() };
    if (accessToken) claims.ath = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))));
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk }).sign(key.privateKey);
  }

  private async assertion(): Promise<string> {
    const { key, clientId } = this.options;
    return new SignJWT({})
      .setProtectedHeader({ alg: key.alg })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(await this.issuer())
      .setIssuedAt(this.sec())
      .setExpirationTime(this.sec() + 60)
      .setJti(crypto.randomUUID())
      .sign(key.privateKey);
  }

  /** POST /token with a client assertion and a DPoP proof by `dpopKey`; throws StintAgentError on refusal. */
  async token(params: Record<string, string>, dpopKey: AgentKey): Promise<Record<string, any>> {
    const res = await this.doFetch(`${this.brokerUrl}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await this.proof(dpopKey, 'POST', `${await this.issuer()}/token`) },
      body: new URLSearchParams({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await this.assertion(), ...params }),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (!res.ok) throw new StintAgentError(res.status, String(body.error ?? 'error'), String(body.error_description ?? body.detail ?? res.statusText), body);
    return body;
  }

  /** Opens a task; its tokens are bound to a new DPoP key (or `dpopKey`). */
  async openTask(req: TaskRequest, o: { dpopKey?: AgentKey } = {}): Promise<StintTask> {
    const dpopKey = o.dpopKey ?? (await generateAgentKey());
    const body = await this.token({ grant_type: 'client_credentials', authorization_details: JSON.stringify([{ type: 'stint_task', ...req }]) }, dpopKey);
    return new StintTask(this, dpopKey, body.task_id as string, body.access_token as string, this.now() + Number(body.expires_in ?? 0) * 1000);
  }
}

const keyOf = (r: CapabilityRequest) =>
  JSON.stringify('scope' in r ? [typeof r.scope === 'string' ? r.scope.split(' ').filter(Boolean).sort() : [...r.scope].sort(), r.resource ?? null] : [r.authorizationDetails, r.resource ?? null]);

/** An open task: capabilities, DPoP-bound requests, approvals, completion. */
export class StintTask {
  private readonly capabilities = new Map<string, Promise<Capability>>();

  constructor(
    readonly agent: StintAgent,
    readonly dpopKey: AgentKey,
    readonly id: string,
    readonly taskToken: string,
    readonly expiresAt: number,
  ) {}

  private params(r: CapabilityRequest): Record<string, string> {
    const p: Record<string, string> = { grant_type: TOKEN_EXCHANGE, subject_token: this.taskToken, subject_token_type: ACCESS_TOKEN };
    if ('scope' in r) p.scope = typeof r.scope === 'string' ? r.scope : r.scope.join(' ');
    else p.authorization_details = JSON.stringify(r.authorizationDetails);
    if (r.resource) p.resource = r.resource;
    return p;
  }

  private toCapability(body: Record<string, any>): Capability {
    return { accessToken: body.access_token, expiresAt: this.agent.now() + Number(body.expires_in ?? 0) * 1000, scope: body.scope, raw: body };
  }

  /**
   * A capability token for `r` (token exchange). A destructive capability answers
   * `approval_required`: with `{ waitForApproval: true }` this polls the approval at the
   * interval the broker announces until it is granted, denied or expires.
   */
  async capability(r: CapabilityRequest, o: { waitForApproval?: boolean; signal?: AbortSignal } = {}): Promise<Capability> {
    try {
      return this.toCapability(await this.agent.token(this.params(r), this.dpopKey));
    } catch (e) {
      if (o.waitForApproval && e instanceof StintAgentError && e.code === 'approval_required' && typeof e.body.auth_req_id === 'string') {
        return this.waitForApproval(e.body.auth_req_id, { interval: Number(e.body.interval ?? 5), signal: o.signal });
      }
      throw e;
    }
  }

  /** Polls an approval (CIBA poll mode) at the announced interval, slowing down when told. */
  async waitForApproval(authReqId: string, o: { interval?: number; signal?: AbortSignal } = {}): Promise<Capability> {
    let interval = Math.max(1, o.interval ?? 5);
    for (;;) {
      await this.agent.sleep(interval * 1000);
      if (o.signal?.aborted) throw new StintAgentError(0, 'aborted', 'stopped waiting for the approval');
      try {
        return this.toCapability(await this.agent.token({ grant_type: CIBA, auth_req_id: authReqId }, this.dpopKey));
      } catch (e) {
        if (!(e instanceof StintAgentError)) throw e;
        if (e.code === 'authorization_pending') interval = Number(e.body.interval ?? interval);
        else if (e.code === 'slow_down') interval = Number(e.body.interval ?? interval + 5);
        else throw e;
      }
    }
  }

  /** A cached capability for `r`, renewed `refreshSkew` seconds before it expires. */
  token(r: CapabilityRequest): Promise<Capability> {
    const k = keyOf(r);
    const skew = (this.agent.options.refreshSkew ?? 30) * 1000;
    const cached = this.capabilities.get(k);
    const fresh = async () => {
      const c = await cached!.catch(() => undefined);
      return c && c.expiresAt - skew > this.agent.now() ? c : undefined;
    };
    const next = (async () => (await (cached ? fresh() : undefined)) ?? this.capability(r))();
    this.capabilities.set(k, next);
    next.catch(() => this.capabilities.get(k) === next && this.capabilities.delete(k));
    return next;
  }

  /**
   * `fetch` with the capability for `r` attached: `Authorization: DPoP <token>` and a fresh
   * proof for this method and URL. The token is renewed before it expires.
   */
  async fetch(input: string | URL, init: RequestInit & { capability: CapabilityRequest }): Promise<Response> {
    const { capability, ...rest } = init;
    const cap = await this.token(capability);
    const url = String(input);
    const headers = new Headers(rest.headers);
    headers.set('Authorization', `DPoP ${cap.accessToken}`);
    headers.set('DPoP', await this.agent.proof(this.dpopKey, rest.method ?? 'GET', url, cap.accessToken));
    return (this.agent.options.fetch ?? fetch)(url, { ...rest, headers });
  }

  /** A DPoP-bound call to the broker with the task token (`GET /v1/tasks/:id`, …). */
  private async brokerCall(method: string, path: string): Promise<Record<string, any>> {
    const { agent } = this;
    const res = await (agent.options.fetch ?? fetch)(`${agent.brokerUrl}${path}`, {
      method,
      headers: { Authorization: `DPoP ${this.taskToken}`, DPoP: await agent.proof(this.dpopKey, method, `${await agent.issuer()}${path}`, this.taskToken) },
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (!res.ok) throw new StintAgentError(res.status, String(body.error ?? 'error'), String(body.detail ?? body.error_description ?? res.statusText), body);
    return body;
  }

  /** The task's status and events. */
  status(): Promise<Record<string, any>> {
    return this.brokerCall('GET', `/v1/tasks/${this.id}`);
  }

  /** Ends the task: every token it holds stops working. */
  complete(): Promise<Record<string, any>> {
    this.capabilities.clear();
    return this.brokerCall('POST', `/v1/tasks/${this.id}/complete`);
  }
}
