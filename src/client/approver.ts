import { SignJWT, type JWK, importJWK } from 'jose';

/** What `stint keygen` writes and `stint approvers add` completes: keep it private (0600). */
export interface ApproverKeyFile {
  alg: 'EdDSA' | 'ES256';
  private_jwk: JWK;
  public_jwk: JWK;
  approver_id?: string;
  /** The approval service URL as printed on the ready line. */
  url?: string;
}

/**
 * An approver on the approval service: every call carries a fresh request JWT signed by the
 * approver's key, and every decision is a JWS over the request's digest.
 */
export class ApproverClient {
  private key?: CryptoKey;

  constructor(
    private readonly url: string,
    readonly approverId: string,
    private readonly file: Pick<ApproverKeyFile, 'alg' | 'private_jwk'>,
    private readonly doFetch: typeof fetch = fetch,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  private async privateKey() {
    return (this.key ??= (await importJWK(this.file.private_jwk, this.file.alg)) as CryptoKey);
  }

  private now = () => Math.floor(Date.now() / 1000);

  async requestJwt(): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: this.file.alg })
      .setIssuer(this.approverId)
      .setAudience(this.url)
      .setIssuedAt(this.now())
      .setExpirationTime(this.now() + 60)
      .setJti(crypto.randomUUID())
      .sign(await this.privateKey());
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.doFetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await this.requestJwt()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  }

  list(status = 'pending') {
    return this.call('GET', `/v1/approvals?status=${encodeURIComponent(status)}`);
  }

  show(id: string) {
    return this.call('GET', `/v1/approvals/${encodeURIComponent(id)}`);
  }

  async decisionJws(id: string, decision: 'approve' | 'deny', digest: string): Promise<string> {
    return new SignJWT({ approval_id: id, decision, digest }).setProtectedHeader({ alg: this.file.alg }).setIssuedAt(this.now()).setJti(crypto.randomUUID()).sign(await this.privateKey());
  }

  /**
   * Reads the request, shows it (`review`, which may decline), signs its digest, sends the
   * decision. The digest signed is the one of the request shown, so what was reviewed is what
   * is decided.
   */
  async decide(id: string, decision: 'approve' | 'deny', review?: (approval: any) => boolean | Promise<boolean>) {
    const shown = await this.show(id);
    if (shown.status !== 200) return shown;
    if (review && !(await review(shown.body))) return { status: 499, body: { error: 'cancelled', detail: 'not signed: the approver declined at review' } };
    return this.call('POST', `/v1/approvals/${encodeURIComponent(id)}/decision`, { decision_jws: await this.decisionJws(id, decision, shown.body.digest) });
  }
}
