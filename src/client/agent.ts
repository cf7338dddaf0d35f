import { assertion, dpopProof, newKey, type KeyPair } from './proofs.js';

export interface TokenAnswer {
  status: number;
  body: Record<string, any>;
}

export interface AgentClientOptions {
  /** The broker's issuer (assertion `aud`, `htu` base). */
  issuer: string;
  /** Where to reach the broker, if not at the issuer URL. */
  brokerUrl?: string;
  clientId: string;
  /** The key registered for the agent (private_key_jwt). */
  key: KeyPair;
  /** The key its tasks are bound to (DPoP); a new one if not given. */
  dpopKey?: KeyPair;
  fetch?: typeof fetch;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** A minimal stint agent: what a harness does over plain OAuth. */
export class AgentClient {
  readonly clientId: string;
  readonly key: KeyPair;
  private dpop?: Promise<KeyPair>;
  private readonly fetch: typeof fetch;
  private readonly issuer: string;
  private readonly broker: string;

  constructor(o: AgentClientOptions) {
    this.clientId = o.clientId;
    this.key = o.key;
    this.dpop = o.dpopKey && Promise.resolve(o.dpopKey);
    this.fetch = o.fetch ?? fetch;
    this.issuer = o.issuer.replace(/\/+$/, '');
    this.broker = (o.brokerUrl ?? o.issuer).replace(/\/+$/, '');
  }

  /** The task key, made once (the promise is kept, so concurrent first calls share one key). */
  dpopKey(): Promise<KeyPair> {
    return (this.dpop ??= newKey());
  }

  private now = () => Math.floor(Date.now() / 1000);

  /** POST /token with a fresh assertion and a proof by `proofKey` (default: the task key). */
  async token(params: Record<string, string>, proofKey?: KeyPair): Promise<TokenAnswer> {
    const key = proofKey ?? (await this.dpopKey());
    const res = await this.fetch(`${this.broker}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await dpopProof(key, 'POST', `${this.issuer}/token`, { nowSec: this.now() }) },
      body: new URLSearchParams({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(this.key, this.clientId, this.issuer, { nowSec: this.now() }),
        ...params,
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  openTask(template: string, environment: string, purpose: string) {
    return this.token({ grant_type: 'client_credentials', authorization_details: JSON.stringify([{ type: 'stint_task', template, environment, purpose }]) });
  }

  exchange(taskToken: string, scope: string, o: { resource?: string; proofKey?: KeyPair } = {}) {
    const params: Record<string, string> = { grant_type: TOKEN_EXCHANGE, subject_token: taskToken, subject_token_type: ACCESS_TOKEN, scope };
    if (o.resource) params.resource = o.resource;
    return this.token(params, o.proofKey);
  }

  /** A request to a resource service, carrying `token` and a proof by `proofKey` (default: the task key). */
  async request(url: string, token: string, o: { method?: string; proofKey?: KeyPair; body?: string } = {}): Promise<Request> {
    const method = o.method ?? 'GET';
    const key = o.proofKey ?? (await this.dpopKey());
    const proof = await dpopProof(key, method, url, { nowSec: this.now(), accessToken: token });
    return new Request(url, { method, headers: { Authorization: `DPoP ${token}`, DPoP: proof }, body: o.body });
  }

  async completeTask(taskId: string, taskToken: string): Promise<TokenAnswer> {
    const req = await this.request(`${this.issuer}/v1/tasks/${taskId}/complete`, taskToken, { method: 'POST' });
    const res = await this.fetch(`${this.broker}/v1/tasks/${taskId}/complete`, { method: 'POST', headers: req.headers });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }
}
