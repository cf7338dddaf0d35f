import { importJWK, type JWK } from 'jose';

/**
 * Public keys published at another service's JWKS URL, fetched on demand and again when an
 * unknown `kid` shows up (at most every `cooldownMs`). Only keys accepted by `filter` are used.
 */
export class RemoteKeySet {
  private keys = new Map<string, { jwk: JWK; key?: CryptoKey }>();
  private fetchedAt = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly filter: (kid: string) => boolean,
    private readonly doFetch: typeof fetch = fetch,
    private readonly cooldownMs = 5_000,
  ) {}

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const res = await this.doFetch(this.url, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) return;
        const { keys } = (await res.json()) as { keys?: JWK[] };
        const next = new Map<string, { jwk: JWK; key?: CryptoKey }>();
        for (const jwk of keys ?? []) if (jwk.kid && this.filter(jwk.kid)) next.set(jwk.kid, this.keys.get(jwk.kid) ?? { jwk });
        this.keys = next;
        this.fetchedAt = Date.now();
      } catch {
        // unreachable: keep what we had
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  async key(kid: string): Promise<CryptoKey | undefined> {
    if (!this.filter(kid)) return undefined;
    if (!this.keys.has(kid) && Date.now() - this.fetchedAt > this.cooldownMs) await this.refresh();
    const entry = this.keys.get(kid);
    if (!entry) return undefined;
    entry.key ??= (await importJWK(entry.jwk, entry.jwk.alg ?? 'EdDSA')) as CryptoKey;
    return entry.key;
  }

  async jwks(): Promise<JWK[]> {
    if (Date.now() - this.fetchedAt > 60_000) await this.refresh();
    return [...this.keys.values()].map((e) => e.jwk);
  }
}
