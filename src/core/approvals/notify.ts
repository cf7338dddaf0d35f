import { SignJWT } from 'jose';
import { randomId, sha256 } from '../encoding.js';
import { StintError } from '../errors.js';
import type { ApprovalCore } from './types.js';

/** The `typ` of a notice's signature: receivers check it against the approval service's JWKS. */
export const NOTICE_TYP = 'stint-notice+jwt';

export async function addWebhook(core: ApprovalCore, url: string) {
  const w = { id: randomId('wh_'), url, createdAt: core.clock.now() };
  await core.approvals.webhooks.add(w);
  await core.audit.append({ type: 'approval.webhook_added', actor: 'approval-admin', data: { id: w.id, url } });
  return w;
}

export async function removeWebhook(core: ApprovalCore, id: string) {
  if (!(await core.approvals.webhooks.remove(id))) throw new StintError('not_found', 'no such webhook');
  await core.audit.append({ type: 'approval.webhook_removed', actor: 'approval-admin', data: { id } });
}

/**
 * Announces a new request to every registered webhook: a JSON notice (no secret, no digest to
 * sign, a link to the request's page) and, in `Stint-Signature`, a JWT by the approval
 * authority's key over the body's hash, so a receiver can tell a notice is ours from the JWKS.
 * Delivery is best effort and never holds up the request.
 */
export async function notifyRequested(core: ApprovalCore, consoleOrigin: string, approvalId: string, fetcher: typeof fetch = fetch): Promise<void> {
  const hooks = await core.approvals.webhooks.list();
  if (hooks.length === 0) return;
  const r = await core.approvals.requests.get(approvalId);
  if (!r) return;
  const body = JSON.stringify({
    type: 'approval.requested',
    approval_id: r.id,
    url: `${consoleOrigin}/requests/${encodeURIComponent(r.id)}`,
    environment: r.request.environment,
    capability: r.request.capability,
    quorum: r.quorum,
    expires_at: new Date(r.expiresAt).toISOString(),
  });
  const iat = Math.floor(core.clock.now() / 1000);
  await Promise.all(
    hooks.map(async (h) => {
      const signature = await new SignJWT({ body_sha256: sha256(body) })
        .setProtectedHeader({ alg: 'EdDSA', typ: NOTICE_TYP, kid: core.keys.kid })
        .setIssuer(core.selfUrl)
        .setAudience(h.url)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .setJti(randomId(''))
        .sign(core.keys.privateKey);
      try {
        const res = await fetcher(h.url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Stint-Signature': signature }, body, signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        await core.audit.append({ type: 'approval.webhook_failed', actor: 'approval-service', data: { id: h.id, approval_id: r.id, error: (e as Error).message.slice(0, 200) } }).catch(() => undefined);
      }
    }),
  );
}
