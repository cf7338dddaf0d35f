import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify, type JWK, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import { publicKeyOf } from '../agents.js';
import { randomId } from '../encoding.js';
import { StintError } from '../errors.js';
import { ACCEPTED_ALGS } from '../dpop.js';
import type { ApprovalCore, ApproverKey, ApproverRecord } from './types.js';

/** An approver's request JWT may live at most this long, seconds (the contract's 60 s). */
export const MAX_REQUEST_JWT_LIFETIME = 60;

/**
 * A person's name as compared: NFKC (so full-width and compatibility forms fold into one),
 * case-folded (upper then lower, so that "ß" and "SS" meet), whitespace collapsed.
 */
export function normaliseName(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim().replace(/\s+/gu, ' ');
}

export async function registerApprover(core: ApprovalCore, input: { name: string; groups: string[]; jwk?: JWK }): Promise<ApproverRecord> {
  const nameKey = normaliseName(input.name);
  if (!nameKey) throw new StintError('invalid_request', 'name must not be empty');
  const approver: ApproverRecord = { id: randomId('apr_'), name: input.name, nameKey, groups: [...new Set(input.groups)], createdAt: core.clock.now() };
  const key = input.jwk ? await jwkKey(approver.id, input.jwk, approver.createdAt) : undefined;
  if (key && (await core.approvals.keys.get(key.kid))) throw new StintError('conflict', 'this key is already registered: rotate or retire it, do not register it again');
  if (!(await core.approvals.approvers.create(approver))) {
    throw new StintError('conflict', `an approver named "${input.name}" (or the same name in another form) is already registered; rotate their key instead`);
  }
  if (key && !(await core.approvals.keys.add(key))) throw new StintError('conflict', 'this key is already registered');
  await core.audit.append({ type: 'approver.registered', actor: 'approval-admin', data: { approver: approver.id, name: approver.name, groups: approver.groups, kid: key?.kid ?? null } });
  return approver;
}

async function jwkKey(approverId: string, input: JWK, at: number): Promise<ApproverKey> {
  const jwk = await publicKeyOf(input, 0, 'jwk');
  const kid = `jwk.${await calculateJwkThumbprint(jwk)}`;
  return { kid, approverId, kind: 'jwk', jwk, publicKey: null, counter: 0, transports: null, createdAt: at, retiredAt: null };
}

async function mustGet(core: ApprovalCore, id: string): Promise<ApproverRecord> {
  const a = await core.approvals.approvers.get(id);
  if (!a) throw new StintError('not_found', 'no such approver');
  return a;
}

/** Adds a JWK to an approver (rotation); `replaces` retires the old one in the same call. */
export async function addApproverJwk(core: ApprovalCore, approverId: string, input: JWK, replaces?: string): Promise<ApproverKey> {
  await mustGet(core, approverId);
  const key = await jwkKey(approverId, input, core.clock.now());
  if (!(await core.approvals.keys.add(key))) throw new StintError('conflict', 'this key is already registered: a key is rotated or retired, never registered twice');
  if (replaces) await retireApproverKey(core, approverId, replaces);
  await core.audit.append({ type: 'approver.key_added', actor: 'approval-admin', data: { approver: approverId, kid: key.kid, kind: key.kind } });
  return key;
}

export async function retireApproverKey(core: ApprovalCore, approverId: string, kid: string, actor = 'approval-admin'): Promise<void> {
  await mustGet(core, approverId);
  if (!(await core.approvals.keys.retire(approverId, kid, core.clock.now()))) throw new StintError('not_found', 'no such live key for this approver');
  keyCache.delete(kid);
  await core.audit.append({ type: 'approver.key_retired', actor, data: { approver: approverId, kid } });
}

/** What anyone may see of a key: never its material beyond the public part. */
export const keyView = (k: ApproverKey) => ({ kid: k.kid, kind: k.kind, created_at: new Date(k.createdAt).toISOString(), ...(k.jwk ? { jwk: k.jwk } : {}) });

const keyCache = new Map<string, CryptoKey>();
/** The approver's live JWKs, imported; the one named by `kid` first if given. */
export async function approverJwks(core: ApprovalCore, approverId: string, kid?: string): Promise<CryptoKey[]> {
  const live = (await core.approvals.keys.list(approverId)).filter((k) => k.kind === 'jwk' && k.jwk);
  const chosen = kid && live.some((k) => k.kid === kid || k.jwk!.kid === kid) ? live.filter((k) => k.kid === kid || k.jwk!.kid === kid) : live;
  return Promise.all(
    chosen.map(async (k) => {
      const hit = keyCache.get(k.kid);
      if (hit) return hit;
      const key = (await importJWK(k.jwk!, k.jwk!.crv === 'P-256' ? 'ES256' : 'EdDSA')) as CryptoKey;
      keyCache.set(k.kid, key);
      return key;
    }),
  );
}

/** Verifies a JWS/JWT by any of the approver's live keys (rotation leaves more than one). */
export async function verifyByApprover(core: ApprovalCore, approverId: string, jws: string, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(jws).kid;
  } catch {
    // jwtVerify below says what is wrong with it.
  }
  const keys = await approverJwks(core, approverId, kid);
  if (keys.length === 0) throw new Error('the approver has no live key');
  let last: unknown;
  for (const key of keys) {
    try {
      return await jwtVerify(jws, key, options);
    } catch (e) {
      last = e;
      // A claim failure is the key's verdict; only a signature mismatch tries the next key.
      if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw e;
    }
  }
  throw last;
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
 * Authenticates an approver's call: `Authorization: Bearer <JWT>` signed by one of the
 * approver's live keys, `iss` = approver id, `aud` = this service, expiring within 60 s,
 * `jti` fresh.
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
    ({ payload } = await verifyByApprover(core, approver.id, jwt, {
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
