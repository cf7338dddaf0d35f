import { field, fromToolInput, kindOf, obj, UnreadableEvent, type GuardAnswer, type GuardEvent, type HarnessAdapter, type Rendered, type Stage } from '../event.js';

/**
 * Cursor: `{conversation_id, generation_id, hook_event_name, workspace_roots, …}` plus, per event,
 * `command`+`cwd` (beforeShellExecution), `tool_name`+`tool_input`+`url|command`
 * (beforeMCPExecution), `file_path`+`content` (beforeReadFile), `tool_name`+`tool_input`
 * (preToolUse, postToolUse, postToolUseFailure with `error_message`). Answers
 * `{"permission":"allow"}` (exit 0) or `{"permission":"deny","user_message","agent_message"}` (exit 2).
 */
const STAGES: Record<string, Stage> = {
  beforeShellExecution: 'pre',
  beforeMCPExecution: 'pre',
  beforeReadFile: 'pre',
  preToolUse: 'pre',
  postToolUse: 'post',
  postToolUseFailure: 'failure',
  afterShellExecution: 'post',
  afterMCPExecution: 'post',
  afterFileEdit: 'post',
  beforeSubmitPrompt: 'prompt',
  sessionStart: 'session',
};

export const cursor: HarnessAdapter = {
  harness: 'cursor',
  parse(input, fallbackCwd) {
    const name = field(input, 'hook_event_name');
    if (!name) throw new UnreadableEvent('no hook_event_name');
    const roots = input && typeof input === 'object' ? (input as Record<string, unknown>).workspace_roots : undefined;
    const cwd = field(input, 'cwd') ?? (Array.isArray(roots) && typeof roots[0] === 'string' ? roots[0] : (fallbackCwd ?? process.cwd()));
    const base = { harness: 'cursor' as const, session: field(input, 'conversation_id', 'session_id') ?? '', event: name, stage: STAGES[name] ?? ('other' as Stage), filesRead: [], filesWritten: [], cwd };
    if (name === 'beforeShellExecution' || name === 'afterShellExecution') {
      const command = field(input, 'command');
      if (command === undefined) throw new UnreadableEvent(`${name} without command`);
      return { ...base, tool: 'Shell', kind: 'shell', command };
    }
    if (name === 'beforeReadFile') {
      const path = field(input, 'file_path');
      if (!path) throw new UnreadableEvent('beforeReadFile without file_path');
      const content = field(input, 'content');
      const e: GuardEvent = { ...base, tool: 'Read', kind: 'read', filesRead: [path] };
      if (content !== undefined) e.fileContents = { [path]: content };
      return e;
    }
    const tool = field(input, 'tool_name') ?? (name === 'afterFileEdit' ? 'Write' : '');
    if (base.stage === 'pre' && !tool) throw new UnreadableEvent(`${name} without tool_name`);
    const e: GuardEvent = { ...base, tool, kind: name === 'beforeMCPExecution' ? 'mcp' : kindOf(tool) };
    fromToolInput(e, obj(input, 'tool_input'));
    if (e.kind === 'mcp') e.args = { tool_input: obj(input, 'tool_input') ?? field(input, 'tool_input'), url: field(input, 'url'), command: field(input, 'command') };
    if (base.stage === 'failure') e.error = field(input, 'error_message', 'error') ?? 'the tool failed';
    return e;
  },
  render(answer: GuardAnswer): Rendered {
    if (answer.kind === 'allow') return { stdout: '{"permission":"allow"}\n', stderr: '', exitCode: 0 };
    const user = answer.kind === 'stop' ? `stint stopped the task: ${answer.reason}` : `stint blocked this call: ${answer.reason}`;
    const body: Record<string, unknown> = { permission: 'deny', user_message: user, agent_message: user };
    if (answer.kind === 'stop') body.continue = false;
    return { stdout: `${JSON.stringify(body)}\n`, stderr: `${answer.reason}\n`, exitCode: 2 };
  },
};
