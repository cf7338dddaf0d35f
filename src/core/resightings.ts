import type { Core } from './context.js';
import type { StintClaims } from './tokens.js';

/**
 * A leaked token is revoked and recorded once, at its first sighting; whoever holds a copy can
 * show it again as often as they like (an expired capability token sent 150 times used to leave
 * 150 `token.revoked` records and 150 red lines in its owner's history). Later sightings are
 * counted here instead, per token, and written as one `token.resighted.aggregate` audit record
 * per token per interval — with no task id, so they stay off the owner's trajectory.
 *
 * The counts live in this process's memory until written (by `maintenance()`, or when the
 * interval has passed at the next sighting): a crash loses at most one interval's counts, and
 * on Workers each isolate counts its own (docs/workers.md). The first sighting's revocation and
 * record are durable before the refusal is answered; only the repeat counts are at stake.
 */
export const RESIGHTING_INTERVAL_MS = 60_000;
/** Distinct tokens counted per interval; beyond, they are counted under `jti: "other"`. */
const MAX_TOKENS = 1_000;
/** How long the first sighting is remembered after the token's expiry (a later one is recorded anew). */
export const LEAK_MEMORY_MS = 7 * 24 * 3600 * 1000;

interface Count {
  jti: string;
  task: string | null;
  agent: string | null;
  count: number;
  first: number;
  last: number;
  where: Set<string>;
}
interface Window {
  start: number;
  counts: Map<string, Count>;
}
const windows = new WeakMap<Core, Window>();

/** Counts one more sighting of an already-revoked leaked token. */
export function noteResighting(core: Core, leaked: StintClaims, where: string): void {
  const now = core.clock.now();
  let w = windows.get(core);
  if (w && now - w.start >= RESIGHTING_INTERVAL_MS) {
    void flushResightings(core, { force: true }).catch(() => undefined);
    w = undefined;
  }
  if (!w) windows.set(core, (w = { start: now, counts: new Map() }));
  const key = w.counts.has(leaked.jti) || w.counts.size < MAX_TOKENS ? leaked.jti : 'other';
  let c = w.counts.get(key);
  if (!c) w.counts.set(key, (c = { jti: key, task: key === 'other' ? null : leaked.task_id, agent: key === 'other' ? null : leaked.sub, count: 0, first: now, last: now, where: new Set() }));
  c.count++;
  c.last = now;
  if (c.where.size < 5) c.where.add(where.slice(0, 100));
}

/** Writes the counts of an interval that has ended (all of them with `force`). */
export async function flushResightings(core: Core, o: { force?: boolean } = {}): Promise<number> {
  const w = windows.get(core);
  if (!w || w.counts.size === 0) return 0;
  if (!o.force && core.clock.now() - w.start < RESIGHTING_INTERVAL_MS) return 0;
  windows.delete(core);
  for (const c of w.counts.values()) {
    await core.audit.append({
      type: 'token.resighted.aggregate',
      actor: 'broker',
      data: { jti: c.jti, leaked_task: c.task, leaked_agent: c.agent, count: c.count, first: new Date(c.first).toISOString(), last: new Date(c.last).toISOString(), where: [...c.where] },
    });
  }
  return w.counts.size;
}

/** True the first time a leaked token is seen (for a long while): the caller records it then, only then. */
export async function firstSighting(core: Core, leaked: StintClaims): Promise<boolean> {
  return core.store.replay.consume('leaked', leaked.jti, Math.max(leaked.exp * 1000, core.clock.now()) + LEAK_MEMORY_MS);
}
