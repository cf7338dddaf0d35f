import type { HarnessAdapter } from '../event.js';
import { parseClaudeShape, renderClaudeShape } from './claude-code.js';

/**
 * Codex: hooks.json with the same events and stdin shape as Claude Code (`session_id`, `cwd`,
 * `hook_event_name`, `tool_name: "Bash"`, `tool_input.command`, plus `turn_id` and `model`), and
 * the same answer: `permissionDecision: "deny"` with exit 2; a stop adds `continue: false`.
 */
export const codex: HarnessAdapter = {
  harness: 'codex',
  parse: (input, cwd) => parseClaudeShape('codex', input, cwd),
  render: renderClaudeShape,
};
