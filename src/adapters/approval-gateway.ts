import type { ApprovalGateway } from '../core/approval-gateway.js';
import type { PollResult } from '../core/approvals/poll.js';
import { StintError, type ErrorCode } from '../core/errors.js';
import { signInternal } from '../core/internal.js';
import type { KeyRing } from '../core/keys.js';
import type { Clock } from '../core/ports.js';
import { RemoteKeySet } from './remote-keys.js';

export interface GatewayOptions {
  /** The approval service's URL (its `aud` for internal calls). */
  url: string;
  /** The broker's issuer and signing keys, which sign the internal calls. */
  issuer: string;
  keys: KeyRing;
  clock: Clock;
  fetch?: typeof fetch;
}

/** The approval service over HTTP, with calls signed by the broker's key. */
export function createApprovalGateway(o: GatewayOptions): ApprovalGateway {
  const doFetch = o.fetch ?? fetch;
  const url = o.url.replace(/\/+$/, '');
  const remote = new RemoteKeySet(`${url}/.well-known/jwks.json`, (kid) => kid.startsWith('approval.'), doFetch);
  const call = async (body: Record<string, unknown>) => {
    const jwt = await signInternal(o.keys, o.issuer, url, body, o.clock.now());
    let res: Response;
    try {
      res = await doFetch(`${url}/internal/broker`, { method: 'POST', headers: { 'Content-Type': 'application/jwt' }, body: jwt, signal: AbortSignal.timeout(5_000) });
    } catch (e) {
      throw new StintError('temporarily_unavailable', 'the approval service is unreachable; nothing was issued', { cause: e });
    }
    const answer = (await res.json().catch(() => ({}))) as Record<string, any>;
    if (!res.ok) {
      const code = (answer.error as ErrorCode) ?? 'temporarily_unavailable';
      throw new StintError(res.status >= 500 ? 'temporarily_unavailable' : code, `approval service: ${answer.detail ?? answer.error_description ?? res.status}`);
    }
    return answer;
  };
  return {
    open: async (clientId, request) => (await call({ op: 'open', client_id: clientId, request })) as never,
    find: async (clientId, action, candidates) => ((await call({ op: 'find', client_id: clientId, action, candidates })).open as never) ?? undefined,
    poll: async (id, clientId, jkt) => (await call({ op: 'poll', auth_req_id: id, client_id: clientId, jkt })) as PollResult,
    void: async (scope, reason) => {
      await call({ op: 'void', scope, reason });
    },
    key: (kid) => remote.key(kid),
    jwks: () => remote.jwks(),
  };
}
