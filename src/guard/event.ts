/**
 * One hook event, the same whatever harness sent it. Adapters (src/guard/adapters/) translate
 * each harness's JSON into this and render the guard's answer back in that harness's format.
 */
export type Harness = 'claude-code' | 'codex' | 'cursor' | 'gemini';
export type Stage = 'pre' | 'post' | 'failure' | 'session' | 'prompt' | 'other';
export type ToolKind = 'shell' | 'read' | 'write' | 'edit' | 'mcp' | 'fetch' | 'search' | 'other';

export interface GuardEvent {
  harness: Harness;
  session: string;
  /** The harness's own event name (`PreToolUse`, `beforeShellExecution`, `BeforeTool`). */
  event: string;
  stage: Stage;
  tool: string;
  kind: ToolKind;
  /** A shell command line, when the tool runs one. */
  command?: string;
  /** The tool's arguments as the harness gave them (MCP and other tools). */
  args?: unknown;
  /** Files the call reads (Read tool, `beforeReadFile`). */
  filesRead: string[];
  /** Content the harness already read for us (Cursor's `beforeReadFile` sends it). */
  fileContents?: Record<string, string>;
  /** Files the call writes, with the content written when the harness says it. */
  filesWritten: { path: string; content?: string }[];
  /** A URL the tool fetches (WebFetch, web_fetch). */
  url?: string;
  cwd: string;
  /** A failure's message (PostToolUseFailure, postToolUseFailure, AfterTool with an error). */
  error?: string;
}

/** The guard's answer before a harness renders it. */
export type GuardAnswer =
  | { kind: 'allow'; note?: string }
  | { kind: 'block'; reason: string }
  | { kind: 'stop'; reason: string };

export interface Rendered {
  stdout: string;
  stderr: string;
  exitCode: 0 | 2;
}

export interface HarnessAdapter {
  harness: Harness;
  /** `cwd`: where the hook runs, for events that do not say (default: this process's). */
  parse(input: unknown, cwd?: string): GuardEvent;
  render(answer: GuardAnswer, event: GuardEvent | undefined): Rendered;
}

export class UnreadableEvent extends Error {}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const field = (o: unknown, ...keys: string[]): string | undefined => {
  if (!o || typeof o !== 'object') return undefined;
  for (const k of keys) {
    const v = str((o as Record<string, unknown>)[k]);
    if (v !== undefined) return v;
  }
  return undefined;
};
export const obj = (o: unknown, key: string): Record<string, unknown> | undefined => {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  if (typeof v === 'string') {
    try {
      const parsed = JSON.parse(v) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
};

/** A tool's kind from its name, across harnesses (Bash, Shell, run_shell_command, local_shell, …). */
export function kindOf(tool: string): ToolKind {
  const t = tool.toLowerCase();
  if (t.startsWith('mcp__') || t.startsWith('mcp_') || t.startsWith('mcp:')) return 'mcp';
  if (/^(bash|shell|run_shell_command|local_shell|exec_command|terminal|run_terminal_cmd|unified_exec)$/.test(t)) return 'shell';
  if (/^(read|read_file|readfile|read_many_files|view|notebookread)$/.test(t)) return 'read';
  if (/^(write|write_file|create_file|notebookedit)$/.test(t)) return 'write';
  if (/^(edit|multiedit|replace|str_replace|strreplace|apply_patch|edit_file|search_replace|tabwrite)$/.test(t)) return 'edit';
  if (/^(webfetch|web_fetch|fetch)$/.test(t)) return 'fetch';
  if (/^(grep|glob|ls|list_directory|search_file_content|glob_file_search|codebase_search|websearch|google_web_search|todowrite|task|agent)$/.test(t)) return 'search';
  return 'other';
}

/** Fills the tool-specific fields of an event from a tool's input object. */
export function fromToolInput(e: GuardEvent, input: Record<string, unknown> | undefined) {
  if (!input) return;
  e.args = input;
  if (e.kind === 'shell') e.command = field(input, 'command', 'cmd');
  if (Array.isArray(input.command) && input.command.every((x) => typeof x === 'string')) {
    // Codex's exec-style argv: ["bash", "-lc", "…"]
    const argv = input.command as string[];
    e.command = argv.length >= 3 && /^-[a-z]*c$/.test(argv[1]!) ? argv.slice(2).join(' ') : argv.map(shellQuote).join(' ');
    e.kind = 'shell';
  }
  const path = field(input, 'file_path', 'path', 'absolute_path', 'target_file', 'notebook_path');
  if (e.kind === 'read' && path) e.filesRead.push(path);
  if (e.kind === 'read' && Array.isArray(input.paths)) for (const p of input.paths) if (typeof p === 'string') e.filesRead.push(p);
  if ((e.kind === 'write' || e.kind === 'edit') && path) e.filesWritten.push({ path, content: field(input, 'content', 'contents', 'new_string', 'new_str', 'code_edit', 'new_source', 'file_text') });
  // Claude Code MultiEdit: every edit's new_string is written
  if (e.kind === 'edit' && Array.isArray(input.edits)) {
    for (const ed of input.edits) {
      const content = field(ed, 'new_string', 'new_str', 'replacement');
      if (content !== undefined) e.filesWritten.push({ path: field(ed, 'file_path', 'path') ?? path ?? '(edit)', content });
    }
  }
  if (e.kind === 'edit' && field(input, 'input', 'patch')) e.filesWritten.push(...patchWrites(field(input, 'input', 'patch')!, path));
  // Codex's apply_patch tool: the patch is `tool_input.command` (a string)
  if (e.kind === 'edit' && typeof input.command === 'string') e.filesWritten.push(...patchWrites(input.command, path));
  // Codex apply_patch arrives as a shell command (`apply_patch <<'EOF' … EOF`, or the patch itself)
  if (e.kind === 'shell' && e.command !== undefined && /^\s*(apply_patch\b|\*\*\* Begin Patch)/.test(e.command)) {
    e.filesWritten.push(...patchWrites(e.command, undefined));
    e.kind = 'edit';
    e.command = undefined;
  }
  if (e.kind === 'fetch') e.url = field(input, 'url', 'prompt');
}

/** The files a patch (apply_patch's `*** Begin Patch` or a unified diff) writes, with the lines it adds. */
export function patchWrites(patch: string, fallback: string | undefined): { path: string; content: string }[] {
  const out = new Map<string, string[]>();
  let file = fallback ?? '(patch)';
  for (const line of patch.split('\n')) {
    const m = /^\*\*\* (?:Add|Update) File: (.+)$/.exec(line) ?? /^\+\+\+ (?:b\/)?(.+)$/.exec(line) ?? /^\*\*\* Move to: (.+)$/.exec(line);
    if (m) {
      file = m[1]!.trim();
      if (!out.has(file)) out.set(file, []);
      continue;
    }
    if (line.startsWith('+') && !line.startsWith('+++')) {
      if (!out.has(file)) out.set(file, []);
      out.get(file)!.push(line.slice(1));
    }
  }
  return [...out].map(([path, lines]) => ({ path, content: lines.join('\n') }));
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
