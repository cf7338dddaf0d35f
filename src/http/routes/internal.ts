import { Hono } from 'hono';
import { verifyDpopProof } from '../../core/dpop.js';
import { StintError } from '../../core/errors.js';
import { verifyInternal } from '../../core/internal.js';
import { onPresentation } from '../../core/presentation.js';
import type { BrokerEnv } from '../env.js';

/**
 * Calls from the approval service, signed by the approval authority's key. Today one: an
 * agent credential was presented to the approval service. With a valid DPoP proof of a key
 * (htu on the approval service's own URL) it is a presentation by that key, judged by the
 * rules like any other; without one the token has leaked and is revoked, nobody stopped.
 */
export const internalRoutes = new Hono<BrokerEnv>().post('/internal/approval', async (c) => {
  const { core, approvalUrl } = c.get('deps');
  const approvals = core.approvals;
  if (!approvals || !approvalUrl) throw new StintError('not_found', 'no approval service is configured');
  const body = await verifyInternal(await c.req.text(), (kid) => approvals.key(kid), { issuer: approvalUrl, audience: core.issuer, now: core.clock.now(), replay: core.store.replay });
  if (body.op !== 'agent_credential' || typeof body.token !== 'string') throw new StintError('invalid_request', 'unknown internal call');
  const { dpop, htm, htu } = body;
  let jkt: string | undefined;
  if (typeof dpop === 'string' && typeof htm === 'string' && typeof htu === 'string' && htu.startsWith(`${approvalUrl}/`)) {
    const check = { proof: dpop, method: htm, urls: [htu], accessToken: body.token, now: core.clock.now(), replay: { consume: (ns: string, jti: string, exp: number) => core.store.replay.consume(`approval:${ns}`, jti, exp) } };
    jkt = (await verifyDpopProof(check).catch(() => undefined))?.jkt;
  }
  const seen = await onPresentation(core, {
    token: body.token,
    jkt,
    where: 'the approval service',
    forbiddenPlace: true,
    actor: 'approval-service',
    denial: { type: 'approval.agent_credential', kind: 'signal' },
  });
  return c.json({ stopped: seen.enforced.stopped, revoked: seen.revoked ?? null }, 202);
});
