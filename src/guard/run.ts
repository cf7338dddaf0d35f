// `stint guard --harness X`: one hook event in, one answer out. It fails closed and never
// hangs: every step is bounded in time, and any failure becomes a block with its reason.
import { ADAPTERS } from './adapters/index.js';
import { analyze } from './analyze.js';
import { BrokerUnreachable, evaluate, evaluateViaRun } from './client.js';
import { UnreadableEvent, type GuardAnswer, type GuardEvent, type Harness, type Rendered } from './event.js';
import { DEADLINE_MS, MAX_INPUT } from './limits.js';
import { loadShellParser, plainCommands } from './shell.js';
import { loadState, stintHome, type TaskState } from './state.js';
import type { Ownership } from './secrets.js';

export interface GuardOptions {
  harness: Harness;
  input: string;
  env?: Record<string, string | undefined>;
  /** Where the hook runs, for events that do not carry a cwd (default: this process's). */
  cwd?: string;
  /** Time for the broker's answer, ms. */
  brokerTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Pre-loaded task state (tests); default: read from STINT_HOME. */
  state?: TaskState | null;
  /** The clock, seconds (tests freeze it). */
  nowSec?: () => number;
  /** When the answer is due (performance.now() ms); default DEADLINE_MS from now. */
  deadline?: number;
}

export { DEADLINE_MS, MAX_INPUT };
/** Time kept for the broker's answer after analysis, ms. */
const BROKER_SHARE_MS = 400;

export async function runGuard(o: GuardOptions): Promise<{ rendered: Rendered; answer: GuardAnswer; event?: GuardEvent }> {
  const adapter = ADAPTERS[o.harness];
  const env = o.env ?? process.env;
  const deadline = o.deadline ?? performance.now() + DEADLINE_MS;
  let event: GuardEvent | undefined;
  const answer = await (async (): Promise<GuardAnswer> => {
    if (o.input.length > MAX_INPUT) return { kind: 'block', reason: `stint guard [uncertain]: the hook event is larger than ${MAX_INPUT / 1024} KiB; blocked` };
    let raw: unknown;
    try {
      raw = JSON.parse(o.input);
      event = adapter.parse(raw, o.cwd);
    } catch (e) {
      const why = e instanceof UnreadableEvent ? e.message : 'it is not JSON';
      return { kind: 'block', reason: `stint guard cannot read this ${o.harness} hook event (${why}); blocked` };
    }
    const ev = event;
    const passive = ev.stage !== 'pre';
    // Inside `stint run`: the supervisor decides (it holds the task and the keys; no file here does).
    const viaRun = env.STINT_RUN_GUARD;
    if (viaRun) {
      if (ev.command !== undefined && !plainCommands(ev.command)) await loadShellParser();
      const facts = await analyze(ev, { own: { tokens: new Set() }, env, deadline: deadline - BROKER_SHARE_MS });
      let d;
      try {
        d = await evaluateViaRun(viaRun, facts, o.brokerTimeoutMs ?? 3000);
      } catch (e) {
        if (passive) return { kind: 'allow' };
        if (e instanceof BrokerUnreachable) return { kind: 'block', reason: `stint guard: ${e.message}; blocked (fail closed)` };
        throw e;
      }
      if (d.decision) return { kind: 'allow', note: d.context.reason };
      const c = d.context;
      const reason = [c.rule ? `[${c.rule}]` : c.code ? `[${c.code}]` : '', c.reason, c.auth_req_id ? `(auth_req_id ${c.auth_req_id})` : ''].filter(Boolean).join(' ');
      if (passive) return { kind: 'allow', note: reason };
      return c.stopped ? { kind: 'stop', reason: `stint stopped the task of this run: ${reason}` } : { kind: 'block', reason: `stint: ${reason}` };
    }
    let state: TaskState | undefined;
    try {
      state = o.state === undefined ? loadState(stintHome(env)) : (o.state ?? undefined);
    } catch (e) {
      return passive ? { kind: 'allow' } : { kind: 'block', reason: `stint guard: the current task cannot be read (${(e as Error).message}); blocked` };
    }
    if (!state) return passive ? { kind: 'allow' } : { kind: 'block', reason: `stint guard: no current task on this machine (run "stint task open"); blocked` };
    const now = o.nowSec?.() ?? Math.floor(Date.now() / 1000);
    if (state.expires_at <= now) return passive ? { kind: 'allow' } : { kind: 'block', reason: `stint guard: task ${state.task_id} has expired; open a new one` };
    const own: Ownership = { taskId: state.task_id, issuer: state.issuer, tokens: new Set([state.task_token, ...(state.tokens ?? [])]) };
    const t0 = performance.now();
    if (ev.command !== undefined && !plainCommands(ev.command)) await loadShellParser();
    const t1 = performance.now();
    const facts = await analyze(ev, { own, env, deadline: deadline - BROKER_SHARE_MS });
    const t2 = performance.now();
    if (env.STINT_GUARD_DEBUG) process.stderr.write(`stint guard: parser ${(t1 - t0).toFixed(1)} ms, analysis ${(t2 - t1).toFixed(1)} ms, since start ${t2.toFixed(1)} ms\n`);
    let decision;
    try {
      decision = await evaluate(state, facts, Math.max(1, Math.floor(Math.min(o.brokerTimeoutMs ?? 3000, deadline - performance.now() - 20))), o.fetch, now);
    } catch (e) {
      if (passive) return { kind: 'allow' };
      if (e instanceof BrokerUnreachable) return { kind: 'block', reason: `stint guard: ${e.message}; blocked (fail closed)` };
      throw e;
    }
    if (decision.decision) return { kind: 'allow', note: decision.context.reason };
    const c = decision.context;
    const tag = c.code === 'approval_required' ? c.code : (c.rule ?? c.code);
    const reason = [tag ? `[${tag}]` : '', c.reason, c.auth_req_id ? `(auth_req_id ${c.auth_req_id})` : ''].filter(Boolean).join(' ');
    if (passive) return { kind: 'allow', note: reason };
    return c.stopped ? { kind: 'stop', reason: `stint stopped task ${state.task_id}: ${reason}` } : { kind: 'block', reason: `stint: ${reason}` };
  })().catch((e: unknown): GuardAnswer => ({ kind: 'block', reason: `stint guard failed (${(e as Error)?.message ?? String(e)}); blocked (fail closed)` }));
  return { rendered: adapter.render(answer, event), answer, event };
}
