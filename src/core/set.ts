import { SignJWT } from 'jose';
import type { Core } from './context.js';
import { randomId } from './encoding.js';
import { eventsFor, type VerifierEvent } from './events.js';
import { environmentServedBy } from './environments.js';
import { SIGNING_ALG } from './keys.js';
import type { ReceiverRecord } from './ports.js';
import { agentScope, scopeKey } from './scope.js';

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

/** The subject of an event (SSF `sub_id`): the task, or the revoked scope. */
function subjectOf(e: VerifierEvent): Record<string, string> {
  if (e.task_id) return { format: 'opaque', id: e.task_id };
  if (typeof e.scope === 'string') return { format: 'opaque', id: e.scope };
  if (typeof e.agent === 'string') return { format: 'opaque', id: scopeKey(agentScope(e.agent)) };
  return { format: 'opaque', id: 'unknown' };
}

/**
 * A Security Event Token (RFC 8417) saying CAEP `session-revoked` for a stop or revocation,
 * signed by the broker's key with `typ: secevent+jwt` (so it can never pass as an access
 * token). The stint event rides along as `stint_event` for receivers that want the detail.
 */
export async function buildSet(core: Core, e: VerifierEvent, audience: string): Promise<string> {
  const at = Math.floor(e.at / 1000);
  const reason = typeof e.reason === 'string' ? e.reason : e.type; // a code, never free text
  return new SignJWT({
    txn: String(e.id),
    sub_id: subjectOf(e),
    events: {
      [SESSION_REVOKED]: {
        event_timestamp: at,
        initiating_entity: e.type === 'task.stopped' ? 'policy' : e.type === 'task.completed' ? 'user' : 'admin',
        reason_admin: { en: reason },
        stint_event: e,
      },
    },
  })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'secevent+jwt', kid: core.keys.kid })
    .setIssuer(core.issuer)
    .setAudience(audience)
    .setIssuedAt(Math.floor(core.clock.now() / 1000))
    .setJti(randomId('set_'))
    .sign(core.keys.privateKey);
}

export interface PushOptions {
  fetch?: typeof fetch;
  /** Attempts per SET before giving up (with doubling delays from `retryMs`). */
  attempts?: number;
  retryMs?: number;
  log?: (msg: string) => void;
  /** Told of each delivery in flight (Workers keep the request alive for them). */
  track?: (p: Promise<unknown>) => void;
}

/**
 * Push delivery (RFC 8935) of every pushed event to every registered receiver. Delivery is
 * best effort with retries; receivers that must not miss anything also follow /v1/events,
 * which resumes from the audit log.
 */
export function startSetPush(core: Core, o: PushOptions = {}): () => void {
  const doFetch = o.fetch ?? fetch;
  const attempts = o.attempts ?? 3;
  const log = o.log ?? ((m: string) => console.error(m));
  const deliver = async (r: ReceiverRecord, e: VerifierEvent) => {
    const set = await buildSet(core, e, r.audience);
    for (let i = 0, delay = o.retryMs ?? 500; i < attempts; i++, delay *= 2) {
      try {
        // Never redirected: a receiver could otherwise send the broker anywhere, past the
        // private-address check made when it was registered.
        const res = await doFetch(r.endpoint, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/secevent+jwt', Accept: 'application/json' }, body: set, signal: AbortSignal.timeout(5_000) });
        if ((res.type as string) === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) return log(`SET push to ${r.id} answered a redirect (${res.status}): not followed, not retried`);
        if (res.status === 202 || res.ok) return;
        if (res.status === 400) return log(`SET push to ${r.id} refused (400): not retried`);
      } catch {
        // retried below
      }
      if (i + 1 < attempts) await new Promise((res) => setTimeout(res, delay));
    }
    log(`SET push to ${r.id} failed after ${attempts} attempts (event ${e.id})`);
  };
  return core.events.subscribe((e) => {
    const p = core.store.receivers.list().then(
      // each receiver hears the events of the environment its audience serves (core/events.ts)
      (rs) => Promise.all(rs.filter((r) => eventsFor(environmentServedBy(core.policy, r.audience))(e)).map((r) => deliver(r, e))),
      () => log('SET push: receivers could not be read'),
    );
    o.track?.(p);
  });
}
