import { field, fromToolInput, kindOf, obj, UnreadableEvent, type GuardAnswer, type GuardEvent, type HarnessAdapter, type Rendered, type Stage } from '../event.js';

/**
 * Gemini CLI: `{session_id, transcript_path, cwd, hook_event_name, timestamp, tool_name,
 * tool_input, tool_response?}` (tools `run_shell_command`, `read_file`, `write_file`, `replace`,
 * `web_fetch`, MCP tools). A block is `{"decision":"deny","reason"}` with exit 2; a stop adds
 * `continue: false` and `stopReason`.
 */
const STAGES: Record<string, Stage> = { BeforeTool: 'pre', AfterTool: 'post', SessionStart: 'session', BeforeAgent: 'prompt' };

export const gemini: HarnessAdapter = {
  harness: 'gemini',
  parse(input, fallbackCwd) {
    const name = field(input, 'hook_event_name');
    if (!name) throw new UnreadableEvent('no hook_event_name');
    const tool = field(input, 'tool_name') ?? '';
    let stage = STAGES[name] ?? 'other';
    if (stage === 'pre' && !tool) throw new UnreadableEvent('BeforeTool without tool_name');
    const response = obj(input, 'tool_response');
    const error = field(response, 'error') ?? (response?.error && typeof response.error === 'object' ? field(response.error, 'message') : undefined);
    if (stage === 'post' && error) stage = 'failure';
    const e: GuardEvent = { harness: 'gemini', session: field(input, 'session_id') ?? '', event: name, stage, tool, kind: kindOf(tool), filesRead: [], filesWritten: [], cwd: field(input, 'cwd') ?? fallbackCwd ?? process.cwd() };
    fromToolInput(e, obj(input, 'tool_input'));
    if (stage === 'failure') e.error = error;
    return e;
  },
  render(answer: GuardAnswer): Rendered {
    if (answer.kind === 'allow') return { stdout: '{"decision":"allow"}\n', stderr: '', exitCode: 0 };
    const body: Record<string, unknown> = { decision: 'deny', reason: answer.reason };
    if (answer.kind === 'stop') {
      body.continue = false;
      body.stopReason = answer.reason;
    }
    return { stdout: `${JSON.stringify(body)}\n`, stderr: `${answer.reason}\n`, exitCode: 2 };
  },
};
