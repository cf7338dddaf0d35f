import { Hono, type Context } from 'hono';
import { verifyDpopProof } from '../../core/dpop.js';
import { isStintError, StintError } from '../../core/errors.js';
import { agentFromForm, htuCandidates } from '../auth.js';
import { clientAddress } from '../client-address.js';
import { truncate } from '../refusal-log.js';
import type { BrokerEnv } from '../env.js';
import { readForm } from '../form.js';
import { grantFor } from '../grants/index.js';

/** The token endpoint: client authentication and the DPoP proof, then the grant (grants/). */
export const tokenRoutes = new Hono<BrokerEnv>().post('/token', async (c) => {
  const form = await readForm(c);
  try {
    return await token(c, form);
  } catch (e) {
    await auditRefusal(c, form, e);
    throw e;
  }
});

/** Forms whose client authenticated: their refusals are recorded one by one. */
const authenticated = new WeakSet<Map<string, string>>();

/**
 * Every refusal at the token endpoint is evidence (a replayed assertion or proof may be a
 * stolen key at work), so it is recorded; refusals the core already recorded with their task
 * are not recorded twice. Refusals before the client authenticated are anyone's to send, so
 * they are counted per code and source (`RefusalLog`), not appended one by one, and every
 * field is truncated. A failed append does not change the answer: it was a refusal anyway.
 */
async function auditRefusal(c: Context<BrokerEnv>, form: Map<string, string>, e: unknown) {
  if (!isStintError(e) || e.status >= 500 || e.recorded) return;
  // Malformed requests are not evidence of anything, and recording them would let anyone grow
  // the log at will; refusals of credentials are.
  if (e.code === 'invalid_request' || e.code === 'unsupported_grant_type' || e.code === 'too_many_requests') return;
  const { core, refusalLog } = c.get('deps');
  // Not necessarily authenticated: the client id is what the request claimed.
  const data = { claimed_client_id: truncate(form.get('client_id')), grant_type: truncate(form.get('grant_type')), error: e.code, reason: truncate(e.message, 300) };
  if (!authenticated.has(form) && refusalLog) return refusalLog.note(e.code, clientAddress(c), data);
  await core.audit.append({ type: 'token.refused', actor: 'token-endpoint', data }).catch(() => undefined);
}

async function token(c: Context<BrokerEnv>, form: Map<string, string>) {
  const { core } = c.get('deps');
  const grantType = form.get('grant_type');
  if (!grantType) throw new StintError('invalid_request', 'grant_type is required');
  const grant = grantFor(grantType);
  if (!grant) throw new StintError('unsupported_grant_type', `grant_type ${grantType} is not supported here`);
  if (!c.req.header('DPoP')) throw new StintError('invalid_dpop_proof', 'DPoP proof is missing: every token request needs a DPoP header (RFC 9449)');

  // Two independent signature checks: run together, the request waits for one thread-pool
  // round trip instead of two. Whatever the timing, a client failure is the answer first.
  // The proof's `jti` is consumed only once the client has authenticated (its assertion's
  // `jti` consumed): a request replayed to several brokers at once is then won whole by one of
  // them, never split (one taking the assertion, another the proof, nobody the token).
  const authenticating = agentFromForm(c, form);
  const afterAuth = { consume: async (ns: string, jti: string, exp: number) => (await authenticating, core.store.replay.consume(ns, jti, exp)) };
  const [auth, proof] = await Promise.allSettled([
    authenticating,
    verifyDpopProof({ proof: c.req.header('DPoP'), method: 'POST', urls: htuCandidates(c), now: core.clock.now(), replay: afterAuth }),
  ]);
  if (auth.status === 'rejected') throw auth.reason;
  authenticated.add(form);
  c.set('client', auth.value.id);
  c.get('deps').limits?.client(auth.value.id);
  if (proof.status === 'rejected') throw proof.reason;
  return grant.handle(c, { form, agent: auth.value, jkt: proof.value.jkt });
}
