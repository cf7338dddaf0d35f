import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { ownersUntimelyProof, verifyDpopProof } from '../core/dpop.js';
import { StintError } from '../core/errors.js';
import type { StintClaims } from '../core/tokens.js';
import { followStream } from './event-stream.js';
import { RevocationView } from './revocation-view.js';

export interface VerifierOptions {
  /** The broker's issuer identifier (the tokens' `iss`). */
  issuer: string;
  /** Where to reach the broker, if not at the issuer URL. */
  brokerUrl?: string;
  /** This service's resource URI: tokens must name it as `aud`. */
  audience: string;
  /** This service's environment: a token for another is reported and refused. */
  environment: string;
  /** The resource service's credentials from `POST /v1/resources`. */
  clientId: string;
  clientSecret: string;
  /**
   * This service's public origin (or base URL) as its clients call it, e.g.
   * `https://api.example`: a DPoP proof's `htu` must name it plus the request's path. Without it
   * the request's own URL is used, which behind a proxy or with a forged Host header is what the
   * client says it is.
   */
  publicUrl?: string;
  /** Longest the revocation view may go without hearing from the broker before refusing everything, ms. */
  maxStalenessMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface VerifiedRequest {
  claims: StintClaims;
  jkt: string;
}

/**
 * Offline verification of stint capability tokens at a resource service: signature against
 * the JWKS, `typ`, `alg`, `iss`, `aud`, `exp`, the DPoP proof and `ath`, the service's own
 * environment, and a revocation view kept current by the broker's event stream. It fails
 * closed: while the view is stale, every token is refused. Substitution and environment
 * mismatch are reported to the broker, which stops the task.
 */
export class StintVerifier {
  private readonly view = new RevocationView();
  private readonly jwks;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly broker: string;
  private readonly basic: string;
  private readonly seen = new Map<string, number>();
  private stream?: { close: () => void };
  private connected = false;
  private lastHeard = 0;
  private readonly listeners = new Set<(e: { type: string; id?: number }) => void>();

  constructor(private readonly o: VerifierOptions) {
    this.fetch = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
    this.broker = (o.brokerUrl ?? o.issuer).replace(/\/+$/, '');
    this.basic = `Basic ${btoa(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`)}`;
    this.jwks = createRemoteJWKSet(new URL(`${this.broker}/.well-known/jwks.json`), { [customFetch]: this.fetch, cooldownDuration: 5_000 });
  }

  /** Starts following the broker's events; resolves once the backlog is in. */
  start(): Promise<void> {
    let opened: () => void;
    const ready = new Promise<void>((r) => (opened = r));
    this.stream = followStream({
      url: `${this.broker}/v1/events`,
      headers: { Authorization: this.basic },
      fetch: this.fetch,
      lastEventId: () => this.view.lastEventId,
      onState: (up) => {
        this.connected = up;
      },
      onEvent: (m) => {
        this.lastHeard = this.now();
        if (m.event === 'stream.open') {
          // Everything up to the head it names has been sent (or concerns expired tokens):
          // a reconnection resumes from there rather than asking for the recent past again.
          const head = Number((JSON.parse(m.data) as { head?: number }).head);
          if (Number.isSafeInteger(head) && head > this.view.lastEventId) this.view.lastEventId = head;
          opened();
        }
        if (m.event === 'stream.open' || m.event === 'heartbeat' || m.event === 'stream.lease_ended') return;
        const e = JSON.parse(m.data) as { type: string; id?: number };
        this.view.apply(e, this.now());
        for (const l of this.listeners) l(e);
      },
    });
    const pruner = setInterval(() => this.view.prune(this.now()), 60_000);
    pruner.unref?.();
    return ready;
  }

  stop(): void {
    this.stream?.close();
  }

  /** Called after each broker event is applied (for tests and metrics). */
  onEvent(listener: (e: { type: string; id?: number }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the revocation view is current enough to accept tokens. */
  get healthy(): boolean {
    return this.connected && this.now() - this.lastHeard <= (this.o.maxStalenessMs ?? 15_000);
  }

  /** Verifies one request's DPoP-bound capability token. Throws `StintError` on refusal. */
  async verify(req: Request): Promise<VerifiedRequest> {
    if (!this.healthy) throw new StintError('temporarily_unavailable', 'revocation view is stale: refusing until the broker is heard from again');
    const auth = req.headers.get('Authorization') ?? '';
    const scheme = /^(dpop|bearer) +/i.exec(auth);
    if (!scheme) throw new StintError('invalid_token', 'send Authorization: DPoP <capability token> with a DPoP proof');
    const token = auth.slice(scheme[0].length).trim();
    const proof = req.headers.get('DPoP') ?? undefined;

    let claims: StintClaims;
    try {
      ({ payload: claims } = (await jwtVerify(token, this.jwks, {
        issuer: this.o.issuer,
        typ: 'at+jwt',
        algorithms: ['EdDSA'],
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'cnf', 'task_id', 'env', 'token_use'],
      })) as unknown as { payload: StintClaims });
    } catch (e) {
      // A stint token out of its owner's hands is reported whether or not it still works:
      // ownership before expiry. The broker decides from the evidence.
      if (e instanceof errors.JWTExpired) await this.report({ type: 'credential_substitution', ...this.evidence(req, token, proof), detail: `expired token presented to ${this.o.audience}` });
      const why = e instanceof errors.JWTExpired ? 'token has expired' : 'token is not a valid stint token';
      throw new StintError('invalid_token', why, { cause: e });
    }
    if (claims.token_use !== 'capability' && claims.token_use !== 'grant') throw new StintError('invalid_token', 'a capability token is required here');
    // A grant must come from the approval authority's key, never the broker's own.
    if ((claims.token_use === 'grant') !== (decodeProtectedHeader(token).kid ?? '').startsWith('approval.')) {
      throw new StintError('invalid_token', 'token type and signing authority do not match');
    }
    // Possession first: without a valid proof of its key, the token has leaked, and whatever
    // else is wrong with it says nothing about its owner (the broker revokes it, stops nobody).
    let jkt: string;
    try {
      if (scheme[1]!.toLowerCase() !== 'dpop') throw new StintError('invalid_token', 'a DPoP-bound token was sent as a Bearer token');
      ({ jkt } = await verifyDpopProof({
        proof,
        method: req.method,
        urls: [this.htuOf(req)],
        accessToken: token,
        now: this.now(),
        replay: { consume: async (ns, jti, exp) => this.consume(`${ns}:${jti}`, exp) },
        code: 'invalid_token',
      }));
    } catch (e) {
      // A proof by the token's own key whose only fault is its time (a retry replaying it, a
      // skewed clock) is the owner's mistake: refused, not reported as a leak. Any other failure
      // (no proof, a junk proof that merely names the token's key) is a leak.
      if (!ownersUntimelyProof(e, claims.cnf.jkt)) {
        await this.report({ type: 'credential_substitution', token, detail: `presented to ${this.o.audience} without a valid proof of its key` });
      }
      throw e;
    }
    if (jkt !== claims.cnf.jkt) {
      await this.report({ type: 'credential_substitution', ...this.evidence(req, token, proof), detail: `presented to ${this.o.audience} with another key` });
      throw new StintError('invalid_token', 'token is bound to another key');
    }
    if (claims.env !== this.o.environment) {
      await this.report({ type: 'environment_mismatch', ...this.evidence(req, token, proof), detail: `presented to ${this.o.audience} (${this.o.environment})` });
      throw new StintError('invalid_token', `token is for ${claims.env}, this service is ${this.o.environment}`);
    }
    // After the key check: a stolen token is substitution whichever service it is shown to.
    if (claims.aud !== this.o.audience) throw new StintError('invalid_token', 'token is for another resource');
    if (this.view.isRevoked(claims)) throw new StintError('invalid_token', 'token has been revoked');
    // Single use is decided in one place, the broker: the first use there consumes the grant.
    if (claims.token_use === 'grant' && !(await this.consumeGrant(token))) throw new StintError('invalid_token', 'this single-use grant was already used');
    return { claims, jkt };
  }

  private htuOf(req: Request): string {
    if (!this.o.publicUrl) return req.url;
    return `${this.o.publicUrl.replace(/\/+$/, '')}${new URL(req.url).pathname}`;
  }

  private consume(key: string, expiresAt: number): boolean {
    const now = this.now();
    if (this.seen.size > 50_000) for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAt);
    return true;
  }

  private async consumeGrant(token: string): Promise<boolean> {
    try {
      const res = await this.fetch(`${this.broker}/introspect`, {
        method: 'POST',
        headers: { Authorization: this.basic, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        signal: AbortSignal.timeout(2_000),
      });
      return res.ok && ((await res.json()) as { active?: boolean }).active === true;
    } catch {
      return false; // cannot consume: refuse
    }
  }

  /** Tells the broker; waits (briefly) so the stop is in force before the refusal goes out. */
  /** What the broker needs to judge a presentation: the token, the proof as received, the request. */
  private evidence(req: Request, token: string, proof: string | undefined): Record<string, string> {
    return { token, ...(proof ? { dpop: proof } : {}), htm: req.method, htu: this.htuOf(req) };
  }

  private async report(signal: Record<string, string>): Promise<void> {
    try {
      await this.fetch(`${this.broker}/v1/signals`, {
        method: 'POST',
        headers: { Authorization: this.basic, 'Content-Type': 'application/json' },
        body: JSON.stringify(signal),
        signal: AbortSignal.timeout(2_000),
      });
    } catch {
      // The refusal stands either way; the broker may be unreachable.
    }
  }
}
