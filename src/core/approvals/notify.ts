import { SignJWT } from 'jose';
import { randomId, sha256 } from '../encoding.js';
import { StintError } from '../errors.js';
import { isPrivateHost } from '../private-address.js';
import type { ApprovalCore } from './types.js';

/** The `typ` of a notice's signature: receivers check it against the approval service's JWKS. */
export const NOTICE_TYP = 'stint-notice+jwt';

/**
 * Whether notices may go to loopback, private and link-local addresses (`STINT_ALLOW_PRIVATE_RECEIVERS=1`,
 * tests). Off by default: whoever registers a webhook would otherwise make the approval service
 * post inside its own network (cloud metadata at 169.254.169.254, an admin port on 127.0.0.1).
 */
export interface WebhookOptions {
  allowPrivate?: boolean;
}

const refusePrivate = (url: string, o: WebhookOptions) => {
  if (!o.allowPrivate && isPrivateHost(url)) {
    throw new StintError('invalid_request', 'the webhook is on this machine or a private network; the approval service is not configured to post there');
  }
};

export async function addWebhook(core: ApprovalCore, url: string, o: WebhookOptions = {}) {
  refusePrivate(url, o);
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
 * Delivery is best effort and never holds up the request. A webhook is checked again before each
 * post (one stored before the check existed, or by hand) and redirects are never followed: a
 * public receiver answering 307 to 169.254.169.254 must not turn the post into a request inside.
 */
export async function notifyRequested(core: ApprovalCore, consoleOrigin: string, approvalId: string, fetcher: typeof fetch = fetch, o: WebhookOptions = {}): Promise<void> {
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
        refusePrivate(h.url, o);
        const res = await fetcher(h.url, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/json', 'Stint-Signature': signature }, body, signal: AbortSignal.timeout(5_000) });
        if (res.status >= 300 && res.status < 400) throw new Error(`HTTP ${res.status}: redirects are not followed`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        await core.audit.append({ type: 'approval.webhook_failed', actor: 'approval-service', data: { id: h.id, approval_id: r.id, error: (e as Error).message.slice(0, 200) } }).catch(() => undefined);
      }
    }),
  );
}
