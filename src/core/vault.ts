import type { Core } from './context.js';
import { utf8 } from './encoding.js';
import { StintError } from './errors.js';
import type { Sealer, Store } from './ports.js';

/**
 * The vault: provider secrets sealed at rest (envelope, under the master key). Write-only from
 * the outside: nothing returns a value over the API, and no value reaches a log or an error.
 */
export async function storeSecret(core: Core, name: string, value: string, actor: string) {
  await core.store.secrets.put(name, await core.sealer.seal(utf8(value)), core.clock.now());
  await core.audit.append({ type: 'secret.stored', actor, data: { name } });
  const row = await core.store.secrets.get(name);
  return { name, created_at: new Date(row!.createdAt).toISOString(), updated_at: new Date(row!.updatedAt).toISOString() };
}

/** For providers only (policy references secrets by name). */
export async function readSecret(core: Core, name: string): Promise<string> {
  const row = await core.store.secrets.get(name);
  if (!row) throw new StintError('temporarily_unavailable', `the secret "${name}" named by policy is not in the vault`);
  return new TextDecoder().decode(await core.sealer.open(row.sealedValue));
}

export async function listSecrets(core: Core) {
  // names with a `:` are not the vault's: custody entries (`custody:…`), the broker's own (`stint:…`)
  return (await core.store.secrets.list()).filter((r) => !r.name.includes(':')).map((r) => ({ name: r.name, created_at: new Date(r.createdAt).toISOString(), updated_at: new Date(r.updatedAt).toISOString() }));
}

/**
 * After a master key rotation (the old key given as previous), re-wraps every data key under
 * the new one: signing keys of `use` and vault secrets. Idempotent; runs at start-up.
 */
export async function resealAll(store: Store, sealer: Sealer, use: string): Promise<number> {
  let n = 0;
  for (const k of await store.keys.list(use)) {
    const next = await sealer.rewrap(k.sealedPrivate);
    if (next) await store.keys.reseal(k.kid, next), n++;
  }
  for (const s of await store.secrets.list()) {
    const next = await sealer.rewrap(s.sealedValue);
    if (next) await store.secrets.reseal(s.name, next), n++;
  }
  await store.flush();
  return n;
}
