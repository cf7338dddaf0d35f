import { AgentClient } from './agent.js';
import { newKey } from './proofs.js';

/** The operator API, for scripts (demo, benchmarks) and tests. */
export class OperatorClient {
  private readonly fetch: typeof fetch;
  private readonly broker: string;

  constructor(
    readonly issuer: string,
    private readonly adminToken: string,
    o: { brokerUrl?: string; fetch?: typeof fetch } = {},
  ) {
    this.fetch = o.fetch ?? fetch;
    this.broker = (o.brokerUrl ?? issuer).replace(/\/+$/, '');
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.fetch(`${this.broker}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const type = res.headers.get('Content-Type') ?? '';
    return { status: res.status, body: text && /^application\/(problem\+)?json/.test(type) ? JSON.parse(text) : text };
  }

  /** Registers an agent with a new key pair and returns a client for it. */
  async agent(name: string, owner: string, templates: string[]): Promise<AgentClient> {
    const key = await newKey();
    const res = await this.call('POST', '/v1/agents', { name, owner, jwks: { keys: [key.publicJwk] }, templates });
    if (res.status !== 201) throw new Error(`agent registration failed: ${res.status} ${JSON.stringify(res.body)}`);
    return new AgentClient({ issuer: this.issuer, brokerUrl: this.broker, clientId: res.body.client_id, key, fetch: this.fetch });
  }

  async resource(name: string, audience: string): Promise<{ client_id: string; client_secret: string }> {
    const res = await this.call('POST', '/v1/resources', { name, audience });
    if (res.status !== 201) throw new Error(`resource registration failed: ${res.status}`);
    return res.body;
  }

  task(id: string) {
    return this.call('GET', `/v1/tasks/${id}`);
  }

  revoke(scope: { agent: string } | { environment: string } | { all: true }) {
    return this.call('POST', '/v1/revocations', scope);
  }

  async introspect(token: string): Promise<Record<string, unknown>> {
    const res = await this.fetch(`${this.broker}/introspect`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.adminToken}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    return (await res.json()) as Record<string, unknown>;
  }
}
