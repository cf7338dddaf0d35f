import { base64url } from 'jose';
import type { Core } from './context.js';
import { randomId, sha256, timingSafeEqual } from './encoding.js';
import { classifyEnvironment } from './environments.js';
import type { ResourceRecord } from './ports.js';

/**
 * Resource services introspect tokens and report signals. They authenticate with a client
 * secret (`client_secret_basic`); only its SHA-256 is stored (it has 256 bits of entropy,
 * so a slow hash adds nothing).
 */
export async function registerResource(core: Core, input: { name: string; audience: string }, actor: string) {
  const secret = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const resource: ResourceRecord = {
    id: randomId('rs_'),
    name: input.name,
    audience: input.audience,
    secretHash: await sha256(secret),
    createdAt: core.clock.now(),
  };
  await core.store.resources.create(resource);
  // The environment it serves, told as everywhere else; none: it cannot report a crossing.
  const served = classifyEnvironment(core.policy, resource.audience);
  await core.audit.append({ type: 'resource.registered', actor, data: { resource: resource.id, name: resource.name, audience: resource.audience, environment: served.environment ?? null } });
  return { resource, secret, environment: served.environment ?? null, candidates: served.candidates };
}

export async function authenticateResource(core: Core, id: string, secret: string): Promise<ResourceRecord | undefined> {
  const resource = await core.store.resources.get(id);
  // Compare even when unknown, so timing does not tell which client ids exist.
  const ok = await timingSafeEqual(await sha256(secret), resource?.secretHash ?? '');
  return ok && resource ? resource : undefined;
}
