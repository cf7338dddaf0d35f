import { decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify, type JWK } from 'jose';
import { publicKeyOf } from '../agents.js';
import { randomId } from '../encoding.js';
import { StintError } from '../errors.js';
import { ACCEPTED_ALGS } from '../dpop.js';
import type { ApprovalCore, ApproverRecord } from './types.js';

/** An approver's request JWT may live at most this long, seconds (the contract's 60 s). */
export const MAX_REQUEST_JWT_LIFETIME = 60;

export async function registerApprover(core: ApprovalCore, input: { name: string; groups: string[]; jwk: JWK }): Promise<ApproverRecord> {
  const approver: ApproverRecord = {
    id: randomId('apr_'),
    name: input.name,
    groups: [...new Set(input.groups)],
    jwk: await publicKeyOf(input.jwk, 0, 'jwk'),
    createdAt: core.clock.now(),
  };
  await core.approvals.approvers.create(approver);
  await core.audit.append({ type: 'approver.registered', actor: 'approval-admin', data: { approver: approver.id, name: approver.name, groups: approver.groups } });
  return approver;
}

const keyCache = new Map<string, CryptoKey>();
export async function approverKey(a: ApproverRecord): Promise<CryptoKey> {
  const hit = keyCache.get(a.id);
  if (hit) return hit;
  const key = (await importJWK(a.jwk, a.jwk.crv === 'P-256' ? 'ES256' : 'EdDSA')) as CryptoKey;
  keyCache.set(a.id, key);
  return key;
}

/** Whether a bearer token is one the broker issued (an agent's credential). */
export async function isBrokerToken(core: ApprovalCore, token: string): Promise<boolean> {
  try {
    const { kid, typ } = decodeProtectedHeader(token);
    if (typ !== 'at+jwt' || !kid) return false;
    const key = await core.brokerKey(kid);
    if (!key) return false;
    await jwtVerify(token, key, { issuer: core.issuer, currentDate: new Date(0) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Authenticates an approver's call: `Authorization: Bearer <JWT>` signed by the approver's
 * key, `iss` = approver id, `aud` = this service, expiring within 60 s, `jti` fresh.
 */
export async function authenticateApprover(core: ApprovalCore, authorization: string | undefined): Promise<ApproverRecord> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new StintError('unauthorized', why, { cause });
  };
  if (!authorization || !/^bearer /i.test(authorization)) refuse('approvers authenticate with Authorization: Bearer <request JWT>');
  const jwt = authorization!.slice(7).trim();
  let iss: unknown;
  try {
    iss = decodeJwt(jwt).iss;
  } catch (e) {
    return refuse('the credential is not a JWT', e);
  }
  const approver = typeof iss === 'string' ? await core.approvals.approvers.get(iss) : undefined;
  if (!approver) return refuse('unknown approver');
  let payload;
  try {
    ({ payload } = await jwtVerify(jwt, await approverKey(approver), {
      issuer: approver.id,
      audience: core.selfUrl,
      algorithms: ACCEPTED_ALGS,
      currentDate: new Date(core.clock.now()),
      requiredClaims: ['iat', 'exp', 'jti'],
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) return refuse('the request JWT has expired', e);
    return refuse(`the request JWT is invalid (${(e as Error).message})`, e);
  }
  if (payload.exp! - payload.iat! > MAX_REQUEST_JWT_LIFETIME || payload.exp! - core.clock.now() / 1000 > MAX_REQUEST_JWT_LIFETIME) {
    refuse(`the request JWT must expire within ${MAX_REQUEST_JWT_LIFETIME}s`);
  }
  if (!(await core.store.replay.consume(`approver:${approver.id}`, String(payload.jti), (payload.exp! + 1) * 1000))) refuse('the request JWT was already used (jti replay)');
  return approver;
}
