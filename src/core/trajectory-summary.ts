/**
 * What of a task's trajectory rides in an approval request. The whole of it grew with every
 * grant (a long task's request passed the approval service's body limit after ~250 grants, and
 * could not be asked at all), and an approver reads the end of it: so the newest events are
 * sent in full, string fields cut to a length a screen can hold, and what came before is one
 * summary entry counting it by kind.
 */
export type TrajectoryEntry = { at: string; kind: string; detail: Record<string, unknown> };

export const TRAJECTORY_KEPT = 40;
const FIELD_CHARS = 300;
const LIST_ITEMS = 20;

export function boundedTrajectory(events: TrajectoryEntry[], keep = TRAJECTORY_KEPT): TrajectoryEntry[] {
  const kept = events.slice(-keep).map((e) => ({ at: e.at, kind: e.kind, detail: compact(e.detail) }));
  const omitted = events.slice(0, Math.max(0, events.length - keep));
  if (omitted.length === 0) return kept;
  const counts: Record<string, number> = {};
  for (const e of omitted) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  const byKind = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
  const summary: TrajectoryEntry = {
    at: omitted[0]!.at,
    kind: 'summary',
    detail: { type: 'trajectory.summary', omitted: omitted.length, counts, until: omitted[omitted.length - 1]!.at, reason: `${omitted.length} earlier event(s) not shown: ${byKind}` },
  };
  return [summary, ...kept];
}

function compact(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail).slice(0, 20)) out[k] = cut(v, 0);
  return out;
}

function cut(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.length > FIELD_CHARS ? `${v.slice(0, FIELD_CHARS)}…` : v;
  if (v === null || typeof v !== 'object') return v;
  if (depth >= 2) return '…';
  if (Array.isArray(v)) return v.slice(0, LIST_ITEMS).map((x) => cut(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v).slice(0, LIST_ITEMS)) out[k] = cut(x, depth + 1);
  return out;
}
