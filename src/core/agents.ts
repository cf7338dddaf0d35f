import { importJWK, type JWK } from 'jose';
import type { Core } from './context.js';
import { randomId } from './encoding.js';
import { StintError } from './errors.js';
import type { AgentRecord } from './ports.js';

export interface AgentRegistration {
  name: string;
  owner: string;
  jwks: { keys: JWK[] };
  templates?: string[];
}

const PUBLIC_MEMBERS: Record<string, string[]> = { OKP: ['kty', 'crv', 'x'], EC: ['kty', 'crv', 'x', 'y'] };
const ALG_FOR: Record<string, string> = { Ed25519: 'EdDSA', 'P-256': 'ES256' };

/** Keeps only public members; refuses private keys and curves we do not verify. */
export async function publicKeyOf(jwk: JWK, i: number, label = `jwks.keys[${i}]`): Promise<JWK> {
  const bad = (why: string): never => {
    throw new StintError('invalid_request', `${label}: ${why}`);
  };
  if ('d' in jwk || 'k' in jwk) bad('a private or symmetric key was sent; register the public key only');
  const alg = ALG_FOR[jwk.crv ?? ''];
  const members = PUBLIC_MEMBERS[jwk.kty ?? ''];
  if (!alg || !members || (jwk.kty === 'OKP') !== (jwk.crv === 'Ed25519')) bad('must be an Ed25519 (OKP) or P-256 (EC) key');
  if (jwk.alg !== undefined && jwk.alg !== alg && !(alg === 'EdDSA' && jwk.alg === 'Ed25519')) bad(`alg must be ${alg} for ${jwk.crv}`);
  const out: JWK = {};
  for (const m of members!) (out as Record<string, unknown>)[m] = jwk[m as keyof JWK];
  // No `alg` is stored: an Ed25519 key may sign as `EdDSA` or `Ed25519` (RFC 9864).
  if (jwk.kid !== undefined) out.kid = jwk.kid;
  try {
    await importJWK(out, alg);
  } catch (e) {
    bad(`not a valid ${jwk.crv} public key`);
  }
  return out;
}

export async function registerAgent(core: Core, reg: AgentRegistration, actor: string): Promise<AgentRecord> {
  const unknown = (reg.templates ?? []).filter((t) => !(t in core.policy.templates));
  if (unknown.length > 0) throw new StintError('invalid_request', `templates: unknown template ${unknown.map((t) => `"${t}"`).join(', ')}`);
  const keys = await Promise.all(reg.jwks.keys.map((k, i) => publicKeyOf(k, i)));
  const kids = keys.map((k) => k.kid).filter(Boolean);
  if (new Set(kids).size !== kids.length) throw new StintError('invalid_request', 'jwks: kid values must be unique');
  const agent: AgentRecord = {
    id: randomId('agt_'),
    name: reg.name,
    owner: reg.owner,
    jwks: keys,
    templates: [...new Set(reg.templates ?? [])],
    status: 'active',
    createdAt: core.clock.now(),
  };
  await core.store.agents.create(agent);
  await core.audit.append({ type: 'agent.registered', actor, data: { agent: agent.id, name: agent.name, owner: agent.owner, templates: agent.templates } });
  return agent;
}

export const agentView = (a: AgentRecord) => ({
  client_id: a.id,
  name: a.name,
  owner: a.owner,
  templates: a.templates,
  status: a.status,
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: a.jwks },
  created_at: new Date(a.createdAt).toISOString(),
});
