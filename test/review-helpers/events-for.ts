/** guard's eventsFor (src/core/events.ts on branch guard), inlined: main has no per-subscriber filter yet. */
export function eventsForCheck(served: string, e: { environment?: unknown; scope?: unknown }): boolean {
  if (typeof e.environment === 'string' && e.environment !== served) return false;
  if (typeof e.scope === 'string' && e.scope.startsWith('env:') && e.scope !== `env:${served}`) return false;
  return true;
}
