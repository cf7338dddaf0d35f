import type { Core } from '../context.js';
import type { CredentialProvider } from './types.js';
import { parseScopeKey } from '../scope.js';

/** How provider-side revocation has been going: `/readyz` reports a failing one. */
export interface RevocationHealth {
  failing: boolean;
  lastError?: string;
  at?: number;
}
const health = new WeakMap<object, RevocationHealth>();
export const revocationHealth = (core: Core): RevocationHealth => health.get(core) ?? { failing: false };

const endsTask = (e: { type: string; token_use?: unknown }) =>
  e.type === 'task.stopped' || e.type === 'task.revoked' || e.type === 'task.completed' || (e.type === 'token.revoked' && e.token_use === 'task');

/**
 * Tells every provider when a task ends or a scope is revoked. A failure is an audit event
 * (evidence that a credential outside stint may still work) and shows on readiness until a
 * later revocation succeeds.
 */
export function startProviderRevocation(core: Core, log: (m: string) => void = console.error, track: (p: Promise<unknown>) => void = () => {}): () => void {
  if (core.providers.size === 0) return () => {};
  const run = (p: CredentialProvider, what: string, work: () => Promise<void>) =>
    track(
      work().then(
        () => health.set(core, { failing: false }),
        async (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          health.set(core, { failing: true, lastError: `${p.type}: ${what}: ${message}`, at: core.clock.now() });
          log(`${p.type} revocation for ${what} failed: ${message}`);
          await core.audit.append({ type: 'provider.revocation_failed', actor: 'broker', data: { provider: p.type, for: what, error: message.slice(0, 300) } }).catch(() => undefined);
        },
      ),
    );
  return core.events.subscribe((e) => {
    for (const p of core.providers.values()) {
      if (endsTask(e) && e.task_id) run(p, e.task_id, () => p.revokeTask(core, e.task_id!));
      const scope = e.type === 'scope.revoked' && typeof e.scope === 'string' ? parseScopeKey(e.scope) : undefined;
      if (scope && typeof e.epoch === 'number') run(p, e.scope as string, () => p.revokeScope(core, scope, e.epoch as number));
    }
  });
}
