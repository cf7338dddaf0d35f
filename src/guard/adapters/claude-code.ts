import { field, fromToolInput, kindOf, obj, UnreadableEvent, type GuardAnswer, type GuardEvent, type Harness, type HarnessAdapter, type Rendered, type Stage } from '../event.js';

/**
 * Claude Code (and Codex, whose hooks take the same shape): `{session_id, transcript_path, cwd,
 * hook_event_name, tool_name, tool_input, tool_response?, error?}` on stdin. A block is
 * `hookSpecificOutput.permissionDecision: "deny"` and exit 2 with the reason on stderr; a stop
 * adds `continue: false` and `stopReason`.
 */
const STAGES: Record<string, Stage> = {
  PreToolUse: 'pre',
  PostToolUse: 'post',
  PostToolUseFailure: 'failure',
  UserPromptSubmit: 'prompt',
  SessionStart: 'session',
};

export function parseClaudeShape(harness: Harness, input: unknown, cwd?: string): GuardEvent {
  const name = field(input, 'hook_event_name');
  if (!name) throw new UnreadableEvent('no hook_event_name');
  const tool = field(input, 'tool_name') ?? '';
  let stage = STAGES[name] ?? 'other';
  const response = obj(input, 'tool_response');
  // a failed call reported as PostToolUse (Codex, older Claude Code): a tool error all the same
  const exit = response?.exit_code ?? response?.exitCode;
  if (stage === 'post' && ((typeof exit === 'number' && exit !== 0) || response?.is_error === true || response?.success === false)) stage = 'failure';
  if (stage === 'pre' && !tool) throw new UnreadableEvent('PreToolUse without tool_name');
  const e: GuardEvent = {
    harness,
    session: field(input, 'session_id') ?? '',
    event: name,
    stage,
    tool,
    kind: kindOf(tool),
    filesRead: [],
    filesWritten: [],
    cwd: field(input, 'cwd') ?? cwd ?? process.cwd(),
  };
  const ti = obj(input, 'tool_input');
  if (stage === 'pre' && input && typeof input === 'object' && 'tool_input' in input && !ti) throw new UnreadableEvent('tool_input is not an object');
  fromToolInput(e, ti);
  if (stage === 'failure') e.error = field(input, 'error') ?? field(response, 'stderr', 'error', 'output') ?? 'the tool failed';
  return e;
}

export function renderClaudeShape(answer: GuardAnswer, event: GuardEvent | undefined): Rendered {
  if (answer.kind === 'allow') return { stdout: '', stderr: '', exitCode: 0 };
  const hookEventName = event?.event && event.event !== 'other' ? event.event : 'PreToolUse';
  const out: Record<string, unknown> = {
    hookSpecificOutput: { hookEventName, permissionDecision: 'deny', permissionDecisionReason: answer.reason },
  };
  if (answer.kind === 'stop') {
    out.continue = false;
    out.stopReason = answer.reason;
  }
  return { stdout: `${JSON.stringify(out)}\n`, stderr: `${answer.reason}\n`, exitCode: 2 };
}

export const claudeCode: HarnessAdapter = {
  harness: 'claude-code',
  parse: (input, cwd) => parseClaudeShape('claude-code', input, cwd),
  render: renderClaudeShape,
};
