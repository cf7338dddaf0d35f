import type { Core } from './context.js';
import { record } from './trajectory.js';

/**
 * Routine observations — tool calls the rules allowed, and calls reported after the fact — are
 * counted, not recorded one by one: an agent making a thousand ordinary calls used to append a
 * thousand audit records and a thousand trajectory events (≈27 MB for 1,008 evaluations), and the
 * hash-chained log only shrinks at the retention age. Each task's calls are written as one
 * `tool_call.observed` record and one trajectory event per interval: counts by tool, stage and
 * verdict, the capabilities seen, the first and last time, and a few samples.
 *
 * What is never aggregated: refusals, stops, approvals requested, granted or spent — each is its
 * own record, written before the answer, and a task's pending counts are written just before
 * any of them (so its trajectory keeps its order) and whenever the task is shown.
 *
 * Trade-off: the counts live in this process's memory until written (by `maintenance()`, at the
 * task's next call once the interval has passed, as above, or at a graceful stop): a crash loses at most one
 * interval of routine allowed calls, never a decision that refused or stopped anything. On
 * Workers each isolate counts its own (docs/workers.md).
 */
export const OBSERVATION_INTERVAL_MS = 60_000;
/** Tasks counted at once; past this, everything is written out (memory stays bounded). */
const MAX_TASKS = 10_000;
/** Distinct (tool, stage, verdict) per task and interval; beyond, counted under `tool: "other"`. */
const MAX_KINDS = 32;
const MAX_SAMPLES = 3;

export interface Observation {
  taskId: string;
  agentId: string;
  tool: string;
  stage: string;
  verdict: string;
  capabilities: string[];
  callHash?: string;
  summary?: string;
}

interface Pending {
  agentId: string;
  start: number;
  first: number;
  last: number;
  count: number;
  kinds: Map<string, { tool: string; stage: string; verdict: string; count: number }>;
  capabilities: Set<string>;
  samples: { tool: string; call_hash?: string; summary?: string }[];
}

const pendingOf = new WeakMap<Core, Map<string, Pending>>();

/** Counts one routine observation; writes the task's previous interval first if it has ended. */
export async function observe(core: Core, o: Observation): Promise<void> {
  const now = core.clock.now();
  let all = pendingOf.get(core);
  if (!all) pendingOf.set(core, (all = new Map()));
  const old = all.get(o.taskId);
  if (old && now - old.start >= OBSERVATION_INTERVAL_MS) await flushObservations(core, { taskId: o.taskId });
  if (!all.has(o.taskId) && all.size >= MAX_TASKS) await flushObservations(core, { force: true });
  let p = all.get(o.taskId);
  if (!p) all.set(o.taskId, (p = { agentId: o.agentId, start: now, first: now, last: now, count: 0, kinds: new Map(), capabilities: new Set(), samples: [] }));
  const tool = o.tool.slice(0, 128);
  const k = `${tool}\u0000${o.stage}\u0000${o.verdict}`;
  const over = !p.kinds.has(k) && p.kinds.size >= MAX_KINDS;
  const key = over ? `\u0000other\u0000${o.stage}\u0000${o.verdict}` : k;
  let kind = p.kinds.get(key);
  if (!kind) p.kinds.set(key, (kind = { tool: over ? 'other' : tool, stage: o.stage, verdict: o.verdict, count: 0 }));
  kind.count++;
  p.count++;
  p.last = now;
  for (const c of o.capabilities) if (p.capabilities.size < MAX_KINDS) p.capabilities.add(c);
  if (p.samples.length < MAX_SAMPLES) p.samples.push({ tool, ...(o.callHash ? { call_hash: o.callHash } : {}), ...(o.summary ? { summary: o.summary.slice(0, 160) } : {}) });
}

/**
 * Writes pending counts: of one task (whatever the interval), of every task (`force`), or of
 * every task whose interval has ended (the maintenance round). Says how many records it wrote.
 */
export async function flushObservations(core: Core, o: { taskId?: string; force?: boolean } = {}): Promise<number> {
  const all = pendingOf.get(core);
  if (!all || all.size === 0) return 0;
  const now = core.clock.now();
  const due = o.taskId !== undefined ? (all.has(o.taskId) ? [o.taskId] : []) : [...all].filter(([, p]) => o.force || now - p.start >= OBSERVATION_INTERVAL_MS).map(([id]) => id);
  let n = 0;
  for (const taskId of due) {
    const p = all.get(taskId);
    if (!p) continue;
    // Taken out before the write: a call counted meanwhile opens the next interval, never lost in this one.
    all.delete(taskId);
    await record(core, {
      taskId,
      kind: 'tool',
      type: 'tool_call.observed',
      actor: p.agentId,
      detail: {
        count: p.count,
        first: new Date(p.first).toISOString(),
        last: new Date(p.last).toISOString(),
        calls: [...p.kinds.values()],
        capabilities: [...p.capabilities],
        samples: p.samples,
      },
    });
    n++;
  }
  return n;
}
