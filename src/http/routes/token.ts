import { Hono, type Context } from 'hono';
import { verifyDpopProof } from '../../core/dpop.js';
import { isStintError, StintError } from '../../core/errors.js';
import { ACCESS_TOKEN_TYPE, exchangeForCapability, type CapabilityRequest } from '../../core/exchange.js';
import { pollGrant } from '../../core/ciba.js';
import { openTask } from '../../core/tasks.js';
import { agentFromForm, htuCandidates } from '../auth.js';
import { clientAddress } from '../client-address.js';
import { truncate } from '../refusal-log.js';
import type { BrokerEnv } from '../env.js';
import { readForm } from '../form.js';
import { capabilityDetailsSchema, parseJsonParam, parseWith, scopeSchema, taskDetailsSchema } from '../schemas.js';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_CIBA = 'urn:openid:params:grant-type:ciba';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

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
  if (e.code === 'invalid_request' || e.code === 'unsupported_grant_type') return;
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
  if (grantType !== GRANT_CLIENT_CREDENTIALS && grantType !== GRANT_TOKEN_EXCHANGE && grantType !== GRANT_CIBA) {
    throw new StintError('unsupported_grant_type', `grant_type ${grantType} is not supported here`);
  }
  if (!c.req.header('DPoP')) throw new StintError('invalid_dpop_proof', 'DPoP proof is missing: every token request needs a DPoP header (RFC 9449)');

  // Two independent signature checks: run together, the request waits for one thread-pool
  // round trip instead of two. Whatever the timing, a client failure is the answer first.
  const [auth, proof] = await Promise.allSettled([
    agentFromForm(c, form),
    verifyDpopProof({ proof: c.req.header('DPoP'), method: 'POST', urls: htuCandidates(c), now: core.clock.now(), replay: core.store.replay }),
  ]);
  if (auth.status === 'rejected') throw auth.reason;
  authenticated.add(form);
  if (proof.status === 'rejected') throw proof.reason;
  const agent = auth.value;
  const { jkt } = proof.value;

  if (grantType === GRANT_CIBA) {
    const authReqId = form.get('auth_req_id');
    if (!authReqId || authReqId.length > 100) throw new StintError('invalid_request', 'auth_req_id is required');
    const grant = await pollGrant(core, agent, jkt, authReqId);
    return c.json(
      { access_token: grant.access_token, token_type: 'DPoP', issued_token_type: ACCESS_TOKEN_TYPE, expires_in: grant.expires_in, scope: grant.scope, authorization_details: grant.authorization_details },
      200,
      NO_STORE,
    );
  }

  if (grantType === GRANT_CLIENT_CREDENTIALS) {
    const raw = form.get('authorization_details');
    if (!raw) throw new StintError('invalid_authorization_details', 'authorization_details with one stint_task is required to open a task');
    const [detail] = parseWith(taskDetailsSchema, parseJsonParam(raw, 'invalid_authorization_details', 'authorization_details'), 'invalid_authorization_details', 'authorization_details');
    const { token, claims, task, detail: echoed } = await openTask(core, agent, detail!, jkt);
    return c.json(
      { access_token: token, token_type: 'DPoP', expires_in: claims.exp - claims.iat, task_id: task.id, authorization_details: [echoed] },
      200,
      NO_STORE,
    );
  }

  const subjectToken = form.get('subject_token');
  if (!subjectToken) throw new StintError('invalid_request', 'subject_token is required');
  if (form.get('subject_token_type') !== ACCESS_TOKEN_TYPE) {
    throw new StintError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  if (form.has('actor_token')) throw new StintError('invalid_request', 'actor_token is not supported');
  const requested = form.get('requested_token_type');
  const { capabilities, locations } = capabilityRequest(form);
  const req: CapabilityRequest = { capabilities, locations, resource: form.get('resource'), requestedTokenType: requested };
  const out = await exchangeForCapability(core, agent, jkt, subjectToken, req);
  if (out.kind === 'provider') {
    // RFC 8693 §2.2.1: a token that is not an OAuth access token has token_type N_A.
    const { issued } = out;
    return c.json({ issued_token_type: out.issuedTokenType, token_type: 'N_A', access_token: issued.accessToken, expires_in: issued.expiresIn, ...issued.fields }, 200, NO_STORE);
  }
  const { token, claims, detail, ttl } = out;
  return c.json(
    {
      access_token: token,
      token_type: 'DPoP',
      issued_token_type: ACCESS_TOKEN_TYPE,
      expires_in: ttl,
      scope: claims.scope,
      authorization_details: [detail],
    },
    200,
    NO_STORE,
  );
}

export function capabilityRequest(form: Map<string, string>): { capabilities: string[]; locations?: string[] } {
  const scope = form.get('scope');
  const details = form.get('authorization_details');
  if (scope !== undefined && details !== undefined) throw new StintError('invalid_request', 'send scope or authorization_details, not both');
  if (scope !== undefined) return { capabilities: [...new Set(parseWith(scopeSchema, scope, 'invalid_scope', 'scope'))] };
  if (details === undefined) throw new StintError('invalid_request', 'name the capability with scope or authorization_details');
  const [d] = parseWith(capabilityDetailsSchema, parseJsonParam(details, 'invalid_authorization_details', 'authorization_details'), 'invalid_authorization_details', 'authorization_details');
  return { capabilities: [...new Set(d!.actions)], locations: d!.locations };
}
