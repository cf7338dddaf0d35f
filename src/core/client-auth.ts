import { createLocalJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import { ACCEPTED_ALGS } from './dpop.js';
import { StintError } from './errors.js';
import type { AgentRecord, Store } from './ports.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A client assertion may live at most this long (exp − iat, and exp − now), seconds. */
export const MAX_ASSERTION_LIFETIME = 300;

export interface ClientAuthInput {
  clientAssertionType?: string;
  clientAssertion?: string;
  clientId?: string;
  /** Acceptable `aud` values: the issuer and the URL of the endpoint being called. */
  audiences: string[];
  now: number;
  store: Store;
}

const refuse = (why: string, cause?: unknown): never => {
  throw new StintError('invalid_client', why, { cause });
};

// Imported key sets per agent, so that a key is imported once, not on every request (the
// JWKS is compared by content: each read of the agent row parses a fresh copy).
const keySets = new Map<string, { jwks: string; set: ReturnType<typeof createLocalJWKSet> }>();
function keySetFor(agent: AgentRecord) {
  const jwks = JSON.stringify(agent.jwks);
  const hit = keySets.get(agent.id);
  if (hit && hit.jwks === jwks) return hit.set;
  const set = createLocalJWKSet({ keys: agent.jwks });
  if (keySets.size > 10_000) keySets.clear();
  keySets.set(agent.id, { jwks, set });
  return set;
}

/**
 * Authenticates an agent by `private_key_jwt` (RFC 7523 §2.2, RFC 7521 §4.2): the assertion is
 * signed by a key in the agent's registered JWKS, names the agent as `iss` and `sub`, is for us
 * (`aud`), expires soon, and its `jti` has not been seen before.
 */
export async function authenticateAgent(input: ClientAuthInput): Promise<AgentRecord> {
  if (input.clientAssertionType !== JWT_BEARER_ASSERTION || !input.clientAssertion) {
    refuse(`client authentication requires client_assertion_type=${JWT_BEARER_ASSERTION} and a client_assertion (private_key_jwt)`);
  }
  let unverified;
  try {
    unverified = decodeJwt(input.clientAssertion!);
  } catch (e) {
    return refuse('client_assertion is not a JWT', e);
  }
  const clientId = unverified.sub;
  if (typeof clientId !== 'string' || unverified.iss !== clientId) refuse('client_assertion must have iss = sub = client_id');
  if (input.clientId !== undefined && input.clientId !== clientId) refuse('client_id does not match the client_assertion');

  const agent = await input.store.agents.get(clientId!);
  if (!agent) refuse('unknown client');

  let payload;
  try {
    ({ payload } = await jwtVerify(input.clientAssertion!, keySetFor(agent!), {
      issuer: clientId,
      subject: clientId,
      audience: input.audiences,
      algorithms: ACCEPTED_ALGS,
      currentDate: new Date(input.now),
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) return refuse('client_assertion has expired', e);
    if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWSSignatureVerificationFailed) {
      return refuse('client_assertion is not signed by a key registered for this client', e);
    }
    if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') {
      // Name the URL expected: the usual cause is a client that built `aud` from the address
      // it connected to (127.0.0.1) instead of the issuer (localhost).
      return refuse(`client_assertion aud must be the issuer ${input.audiences.map((a) => `"${a}"`).join(' or ')}`, e);
    }
    if (e instanceof errors.JOSEError) return refuse(`client_assertion is invalid (${e.code}: ${e.message})`, e);
    return refuse('client_assertion could not be verified', e);
  }
  const nowSec = Math.floor(input.now / 1000);
  const exp = payload.exp!;
  if (exp - nowSec > MAX_ASSERTION_LIFETIME || (payload.iat !== undefined && exp - payload.iat > MAX_ASSERTION_LIFETIME)) {
    refuse(`client_assertion must expire within ${MAX_ASSERTION_LIFETIME}s`);
  }
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 256) refuse('client_assertion jti must be a string of 8–256 characters');
  if (!(await input.store.replay.consume(`assertion:${clientId}`, payload.jti as string, (exp + 1) * 1000))) {
    refuse('client_assertion was already used (jti replay)');
  }
  return agent!;
}
