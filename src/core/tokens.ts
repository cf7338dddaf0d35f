import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { randomId } from './encoding.js';
import { StintError } from './errors.js';
import { SIGNING_ALG, type KeyRing } from './keys.js';

/**
 * `task`: proves an open task, presented back to the broker. `capability`: for one resource.
 * `grant`: a single-use destructive capability, minted only by the approval authority.
 */
export type TokenUse = 'task' | 'capability' | 'grant';

export interface AuthorizationDetail {
  type: string;
  [k: string]: unknown;
}

/** The claims of every token stint issues (RFC 9068 plus stint's task binding). */
export interface StintClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  cnf: { jkt: string };
  task_id: string;
  /**
   * When the task was opened, in milliseconds. A scope (agent, environment) revoked at epoch E
   * covers the tasks opened at or before E; `iat` has one-second resolution, so without this an
   * offline verifier would take a task opened in the same second just after E for dead.
   */
  task_opened_ms?: number;
  env: string;
  token_use: TokenUse;
  scope?: string;
  authorization_details: AuthorizationDetail[];
}

export type TokenBody = Omit<StintClaims, 'iss' | 'iat' | 'exp' | 'jti'>;

export async function signToken(keys: KeyRing, issuer: string, body: TokenBody, now: number, ttl: number) {
  const iat = Math.floor(now / 1000);
  const claims = { ...body, iss: issuer, iat, exp: iat + ttl, jti: randomId('') } as StintClaims;
  return { token: await keys.sign('at+jwt', claims), claims };
}

/**
 * Verifies a token's signature, type, issuer and lifetime. Says nothing about revocation or
 * task state: callers check those (see `tokenState`).
 */
export async function verifyToken(
  keyFor: (kid: string) => CryptoKey | undefined | Promise<CryptoKey | undefined>,
  issuer: string,
  token: string,
  now: number,
  opts: { allowExpired?: boolean } = {},
): Promise<{ claims: StintClaims; kid: string }> {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = kid ? await keyFor(kid) : undefined;
    if (!key) throw new StintError('invalid_token', 'token was not issued by this broker', { reason: 'foreign' });
    const { payload } = await jwtVerify(token, key, {
      issuer,
      typ: 'at+jwt',
      algorithms: [SIGNING_ALG],
      // An expired token is still evidence (a leaked one reported by a resource service).
      currentDate: new Date(opts.allowExpired ? 0 : now),
      requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'cnf', 'task_id', 'env', 'token_use'],
    });
    return { claims: payload as StintClaims, kid: kid! };
  } catch (e) {
    if (e instanceof StintError) throw e;
    if (e instanceof errors.JWTExpired) throw new StintError('invalid_token', 'token has expired', { cause: e, reason: 'expired' });
    if (e instanceof errors.JWTClaimValidationFailed) throw new StintError('invalid_token', `token claim ${e.claim} is invalid`, { cause: e, reason: 'claims' });
    throw new StintError('invalid_token', 'token is malformed or its signature does not verify', { cause: e, reason: 'foreign' });
  }
}
