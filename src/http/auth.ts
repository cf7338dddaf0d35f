import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticateAgent } from '../core/client-auth.js';
import { tokenEndpoint } from '../core/context.js';
import { ownersUntimelyProof, verifyDpopProof } from '../core/dpop.js';
import { timingSafeEqual } from '../core/encoding.js';
import { StintError } from '../core/errors.js';
import { onPresentation } from '../core/presentation.js';
import { answer } from '../core/rules/enforce.js';
import { authenticateResource } from '../core/resources.js';
import { stoppedError } from '../core/stop.js';
import { isTokenLive } from '../core/token-state.js';
import type { StintClaims } from '../core/tokens.js';
import { verifyStintToken } from '../core/verify-token.js';
import type { BrokerEnv } from './env.js';

type C = Context<BrokerEnv>;

/**
 * The URLs a DPoP proof's `htu` may name for this request: the configured issuer's URL for this
 * path, never one built from the Host header (which the client chooses).
 */
export function htuCandidates(c: C): string[] {
  const { core } = c.get('deps');
  return [`${core.issuer}${new URL(c.req.url).pathname}`];
}

export async function isOperator(c: C): Promise<boolean> {
  const auth = c.req.header('Authorization');
  if (!auth || !/^bearer /i.test(auth)) return false;
  return timingSafeEqual(auth.slice(7).trim(), c.get('deps').adminToken);
}

export async function requireOperator(c: C): Promise<void> {
  if (!(await isOperator(c))) throw new StintError('unauthorized', 'operator credential required (Authorization: Bearer <STINT_ADMIN_TOKEN>)');
}

/** HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1) for a registered resource service. */
export async function basicResource(c: C) {
  const auth = c.req.header('Authorization');
  if (!auth || !/^basic /i.test(auth)) return undefined;
  let decoded: string;
  try {
    decoded = atob(auth.slice(6).trim());
  } catch {
    throw new StintError('invalid_client', 'malformed Basic credentials');
  }
  const i = decoded.indexOf(':');
  if (i < 0) throw new StintError('invalid_client', 'malformed Basic credentials');
  let id: string, secret: string;
  try {
    id = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
    secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
  } catch {
    throw new StintError('invalid_client', 'malformed Basic credentials');
  }
  const resource = await authenticateResource(c.get('deps').core, id, secret);
  if (!resource) throw new StintError('invalid_client', 'unknown resource service or wrong secret');
  return resource;
}

/** private_key_jwt from the form (RFC 7523 §2.2). */
export function agentFromForm(c: C, form: Map<string, string>) {
  const { core } = c.get('deps');
  return authenticateAgent({
    clientAssertionType: form.get('client_assertion_type'),
    clientAssertion: form.get('client_assertion'),
    clientId: form.get('client_id'),
    // The issuer, its token endpoint, or (CIBA) the endpoint called, all as the issuer names them.
    audiences: [...new Set([core.issuer, tokenEndpoint(core.issuer), `${core.issuer}${new URL(c.req.url).pathname}`])],
    now: core.clock.now(),
    store: core.store,
  });
}

/**
 * A DPoP-bound access token (RFC 9449 §7): `Authorization: DPoP <token>` with a proof by the
 * key the token is bound to, naming this method and URL and the token's hash. The token must
 * still be live. Anything else that carries a stint token is a sighting of it out of its
 * owner's hands (Bearer, no proof, a proof by another key, expired or not): it goes through
 * the presentation rules before the refusal is sent.
 */
export async function dpopBoundToken(c: C, opts: { requireLive: boolean } = { requireLive: true }): Promise<StintClaims> {
  const { core } = c.get('deps');
  const auth = c.req.header('Authorization') ?? '';
  const scheme = /^(dpop|bearer) +/i.exec(auth);
  if (!scheme) throw new StintError('invalid_token', 'send Authorization: DPoP <access token> with a DPoP proof');
  const token = auth.slice(scheme[0].length).trim();
  const proof = scheme[1]!.toLowerCase() === 'dpop' ? c.req.header('DPoP') : undefined;
  let proofError: unknown;
  const jkt = proof
    ? (
        await verifyDpopProof({ proof, method: c.req.method, urls: htuCandidates(c), accessToken: token, now: core.clock.now(), replay: core.store.replay, code: 'invalid_token' }).catch((e) => {
          proofError = e;
          return undefined;
        })
      )?.jkt
    : undefined;
  const claims = await verifyStintToken(core, token, { allowExpired: true }).catch(() => undefined);
  // A proof that verifies by the token's own key and fails only on time (a retry replaying its
  // proof, a skewed clock) is refused without taking the token for leaked; any other failure is.
  if (claims && ownersUntimelyProof(proofError, claims.cnf.jkt)) throw proofError;
  if (!claims || jkt === undefined || jkt !== claims.cnf.jkt) {
    const seen = await onPresentation(core, { token, jkt, where: `the broker (${new URL(c.req.url).pathname})`, actor: 'broker', denial: { type: 'credential.refused' }, detail: { risk: 'read' } });
    if (seen.enforced.decision.kind !== 'allow') throw answer(seen.enforced, seen.target);
    throw new StintError('invalid_token', claims ? 'the token was not presented with a valid DPoP proof of its key; it has been revoked' : 'not a token this broker issued');
  }
  if (claims.exp * 1000 <= core.clock.now()) throw new StintError('invalid_token', 'token has expired');
  // An agent authenticates here with its task token, minted for this broker; a token minted for
  // a resource (a capability, a grant) is not an agent credential.
  if (claims.token_use !== 'task' || claims.aud !== core.issuer) throw new StintError('invalid_token', 'only a task token issued for this broker authenticates an agent here');
  if (opts.requireLive && !(await isTokenLive(core, claims))) {
    const task = await core.store.tasks.get(claims.task_id);
    if (task?.status === 'stopped') throw stoppedError(task);
    throw new StintError('invalid_token', 'token is no longer active');
  }
  return claims;
}

/**
 * Who may call a route, as route middleware, so the route table says it: each sets what it
 * established (`caller`, and `agent` for a task token) as typed variables for the handler.
 */
export const operator = createMiddleware<BrokerEnv>(async (c, next) => {
  await requireOperator(c);
  c.set('caller', 'operator');
  await next();
});

/** The agent of a task, by its DPoP-bound task token (live unless `requireLive: false`). */
export const taskAgent = (o: { requireLive: boolean } = { requireLive: true }) =>
  createMiddleware<BrokerEnv>(async (c, next) => {
    c.set('agent', await dpopBoundToken(c, o));
    c.set('caller', 'agent');
    await next();
  });

/** The operator, or else the agent of a task (reading a task: its own only, checked by the route). */
export const operatorOrTaskAgent = createMiddleware<BrokerEnv>(async (c, next) => {
  if (await isOperator(c)) c.set('caller', 'operator');
  else {
    c.set('agent', await dpopBoundToken(c, { requireLive: false }));
    c.set('caller', 'agent');
  }
  await next();
});
