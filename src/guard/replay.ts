// `stint replay`: a recorded session judged offline by the same code the hook and the broker run
// (adapters → analysis → core/decide.ts and its rules registry), with no broker and no network:
// an in-memory core, a fingerprint key of its own for each run, a clock that follows the transcript. Every rule runs
// in shadow mode, so the task is never stopped and every call is judged as enforcement would
// judge it; what is printed is that judgement. This is how a user finds the false positives of a
// new rule before it locks anyone.
import { createHash } from 'node:crypto';
import { createMemoryStore } from '../adapters/memory/store.js';
import { createNobleSealer } from '../adapters/sealing/noble.js';
import { createCore } from '../core/create.js';
import { decideToolCall } from '../core/decide.js';
import { canonicalJson } from '../core/encoding.js';
import type { Policy } from '../core/policy.js';
import type { StintClaims } from '../core/tokens.js';
import { ADAPTERS } from './adapters/index.js';
import { analyze } from './analyze.js';
import { UnreadableEvent, type GuardEvent, type Harness } from './event.js';
import { loadShellParser, plainCommands } from './shell.js';

export interface ReplayOptions {
  /** The JSONL text: a Claude Code transcript, or one hook event per line. */
  text: string;
  policy: Policy;
  template: string;
  environment: string;
  /** The harness of hook-event lines (default: told by each event's name). */
  harness?: Harness;
  /** Working directory for events that name none. */
  cwd?: string;
  /** Time each call's analysis may take, ms (generous: replay is not under a harness's time-out). */
  analysisMs?: number;
}

export type Verdict = 'allow' | 'block' | 'approval' | 'stop';

export interface ReplayDecision {
  /** 1-based, in file order. */
  call: number;
  /** The JSONL line it came from. */
  line: number;
  tool: string;
  decision: Verdict;
  rule?: string;
  code?: string;
  capabilities: string[];
  reason: string;
}

export interface ReplayResult {
  decisions: ReplayDecision[];
  /** SHA-256 (hex) over the canonical JSON of the decisions without their prose. */
  digest: string;
  counts: Record<Verdict, number>;
}

export class ReplayError extends Error {}

const ISSUER = 'https://replay.stint.invalid';
const AGENT = 'agent_replay';
const TASK = 'task_replay';
const START = Date.UTC(2026, 0, 1);

const CURSOR_EVENTS = new Set(['beforeShellExecution', 'beforeMCPExecution', 'beforeReadFile', 'preToolUse', 'postToolUse', 'postToolUseFailure', 'afterShellExecution', 'afterFileEdit']);
const GEMINI_EVENTS = new Set(['BeforeTool', 'AfterTool']);

function harnessOf(raw: Record<string, unknown>, fixed: Harness | undefined): Harness {
  if (fixed) return fixed;
  const name = String(raw.hook_event_name ?? '');
  if (CURSOR_EVENTS.has(name)) return 'cursor';
  if (GEMINI_EVENTS.has(name)) return 'gemini';
  return 'claude-code';
}

type Item = { line: number; harness: Harness; raw: unknown; at?: number } | { line: number; unreadable: string; tool: string };

/**
 * The hook events a file stands for. A transcript line (`type: "assistant"`) holds `tool_use`
 * blocks `{id, name, input}`, each one a PreToolUse; a `type: "user"` line's `tool_result`
 * blocks with `is_error: true` are the failures (PostToolUseFailure) the hook would have seen.
 * A line with `hook_event_name` is a hook event as a harness sent it. Anything else is skipped.
 */
export function eventsOf(text: string, o: { harness?: Harness; cwd?: string } = {}): Item[] {
  const out: Item[] = [];
  const names = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const src = lines[i]!.trim();
    if (!src) continue;
    let raw: any;
    try {
      raw = JSON.parse(src);
    } catch {
      throw new ReplayError(`line ${i + 1} is not JSON`);
    }
    if (!raw || typeof raw !== 'object') throw new ReplayError(`line ${i + 1} is not a JSON object`);
    const at = typeof raw.timestamp === 'string' && !Number.isNaN(Date.parse(raw.timestamp)) ? Date.parse(raw.timestamp) : undefined;
    if (typeof raw.hook_event_name === 'string') {
      out.push({ line: i + 1, harness: harnessOf(raw, o.harness), raw, at });
      continue;
    }
    const content = raw.message?.content;
    if (!Array.isArray(content)) continue;
    const base = { session_id: String(raw.sessionId ?? 'replay'), cwd: typeof raw.cwd === 'string' ? raw.cwd : (o.cwd ?? '.') };
    for (const block of content) {
      if (raw.type === 'assistant' && block?.type === 'tool_use') {
        const tool = typeof block.name === 'string' ? block.name : '';
        if (typeof block.id === 'string') names.set(block.id, tool);
        if (!tool || !block.input || typeof block.input !== 'object') {
          out.push({ line: i + 1, unreadable: 'a tool_use block without a name or an input object', tool: tool || '(unknown)' });
          continue;
        }
        out.push({ line: i + 1, harness: 'claude-code', at, raw: { ...base, hook_event_name: 'PreToolUse', tool_name: tool, tool_input: block.input, tool_use_id: block.id } });
      } else if (raw.type === 'user' && block?.type === 'tool_result' && block.is_error === true) {
        const error = typeof block.content === 'string' ? block.content : Array.isArray(block.content) ? block.content.map((c: any) => (typeof c?.text === 'string' ? c.text : '')).join('\n') : 'the tool failed';
        out.push({ line: i + 1, harness: 'claude-code', at, raw: { ...base, hook_event_name: 'PostToolUseFailure', tool_name: names.get(block.tool_use_id) ?? 'unknown', error } });
      }
    }
  }
  return out;
}

const verdictOf = (d: Awaited<ReturnType<typeof decideToolCall>>): Verdict => {
  const c = d.context;
  if (d.decision && !c.shadow) return 'allow';
  if (c.shadow === 'would_stop' || c.stopped) return 'stop';
  if ((c.shadow_code ?? c.code) === 'approval_required') return 'approval';
  return 'block';
};

/** Replays a session; the same input gives the same decisions and digest on every run. */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const tpl = o.policy.templates[o.template];
  if (!tpl) throw new ReplayError(`unknown template "${o.template}" (the policy defines ${Object.keys(o.policy.templates).join(', ')})`);
  if (!tpl.environments.includes(o.environment)) throw new ReplayError(`template "${o.template}" does not open tasks in "${o.environment}" (only ${tpl.environments.join(', ')})`);
  const items = eventsOf(o.text, o);

  let now = START;
  const clock = { now: () => now };
  // everything in shadow: nothing stops the replayed task, every call is judged as enforcement would
  const policy: Policy = { ...o.policy, mode: 'shadow' };
  const core = await createCore({ issuer: ISSUER, store: createMemoryStore(), sealer: createNobleSealer(new Uint8Array(32)), policy, clock, fingerprintKey: crypto.getRandomValues(new Uint8Array(32)) });
  await core.store.agents.create({ id: AGENT, name: 'replay', owner: 'replay', jwks: [], templates: [o.template], status: 'active', createdAt: now });
  await core.store.tasks.create({ id: TASK, agentId: AGENT, template: o.template, environment: o.environment, purpose: 'replay', jkt: 'replay', status: 'active', statusReason: null, createdAt: now, expiresAt: now + 10 * 365 * 86_400_000 });
  const claims = { iss: ISSUER, sub: AGENT, client_id: AGENT, task_id: TASK, env: o.environment, token_use: 'task', cnf: { jkt: 'replay' } } as unknown as StintClaims;

  const decisions: ReplayDecision[] = [];
  for (const item of items) {
    // the transcript's own times (the failure window counts in them), else one second per event
    now = 'at' in item && item.at !== undefined && item.at > now ? item.at : now + 1000;
    if ('unreadable' in item) {
      decisions.push({ call: decisions.length + 1, line: item.line, tool: item.tool, decision: 'block', rule: 'unreadable', capabilities: [], reason: `cannot read this tool call (${item.unreadable})` });
      continue;
    }
    let ev: GuardEvent;
    try {
      ev = ADAPTERS[item.harness].parse(item.raw);
    } catch (e) {
      const why = e instanceof UnreadableEvent ? e.message : String(e);
      decisions.push({ call: decisions.length + 1, line: item.line, tool: String((item.raw as any)?.tool_name ?? '(unknown)'), decision: 'block', rule: 'unreadable', capabilities: [], reason: `cannot read this ${item.harness} hook event (${why})` });
      continue;
    }
    if (ev.stage !== 'pre' && ev.stage !== 'failure') continue;
    if (ev.command !== undefined && !plainCommands(ev.command)) await loadShellParser();
    // no environment variables: a replay is judged on the session alone, the same on every machine
    const facts = await analyze(ev, { own: { taskId: TASK, issuer: ISSUER, tokens: new Set() }, env: {}, deadline: performance.now() + (o.analysisMs ?? 30_000) });
    const d = await decideToolCall(core, claims, facts);
    if (ev.stage === 'failure') continue; // a tool_error signal: it counts, it is not a call
    const c = d.context;
    decisions.push({
      call: decisions.length + 1,
      line: item.line,
      tool: ev.tool,
      decision: verdictOf(d),
      ...(c.rule ? { rule: c.rule } : {}),
      ...((c.shadow_code ?? c.code) ? { code: c.shadow_code ?? c.code } : {}),
      capabilities: c.capabilities ?? [],
      // the rule has its own field: the reason is the rule's own words
      reason: c.reason.replace(/^allowed in shadow mode; enforced, this call would be (?:stopped|blocked) by rule [\w.-]+: /, ''),
    });
  }
  const digest = createHash('sha256')
    .update(canonicalJson(decisions.map(({ reason: _r, ...d }) => d)))
    .digest('hex');
  const counts: Record<Verdict, number> = { allow: 0, block: 0, approval: 0, stop: 0 };
  for (const d of decisions) counts[d.decision]++;
  return { decisions, digest, counts };
}
