import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import type { Policy } from '../../src/core/policy.js';
import type { Harness } from '../../src/guard/event.js';
import { runGuard } from '../../src/guard/run.js';
import type { TaskState } from '../../src/guard/state.js';
import { ISSUER } from '../helpers/broker.js';
import { testStack } from '../helpers/stack.js';

/** A workspace with the incident's files: an unrelated provider token lying in a file. */
export const RAILWAY_TOKEN = '3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d';
export const GITHUB_TOKEN = `ghp_${'A1b2C3d4E5f6G7h8I9j0'.repeat(2).slice(0, 36)}`;
export const AWS_KEY = 'AKIA2E0A8F3B244C9986';
export const AWS_SECRET = 'q8Jr2vX0m4LkT7wZp3NfH6yBc9DsGe1Ua5RiOt2E';
/** AWS's published sample key: not a credential. */
export const AWS_EXAMPLE_KEY = 'AKIAIOSFODNN7EXAMPLE';

export function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'stint-guard-ws-'));
  mkdirSync(join(dir, 'ops'), { recursive: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'ops/railway.env'), `# old deploy script settings\nRAILWAY_TOKEN=${RAILWAY_TOKEN}\nRAILWAY_PROJECT=checkout\n`);
  writeFileSync(join(dir, 'ops/headers.txt'), `Authorization: Bearer ${RAILWAY_TOKEN}\nContent-Type: application/json\n`);
  writeFileSync(join(dir, 'ops/gh.txt'), `${GITHUB_TOKEN}\n`);
  writeFileSync(join(dir, 'ops/volume-delete.json'), JSON.stringify({ query: 'mutation volumeDelete($volumeId: String!) { volumeDelete(volumeId: $volumeId) }', variables: { volumeId: 'vol_123' } }));
  writeFileSync(join(dir, 'src/index.ts'), `export const answer = 42;\n`);
  writeFileSync(join(dir, 'README.md'), `# checkout service\n\nRun npm test.\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'checkout', scripts: { test: 'vitest' } }));
  return dir;
}

/**
 * The broker and approval service in process, an agent with a staging task opened as
 * `stint task open` would, and `guard(harness, event)` running the real hook code against it.
 */
export async function guardStack(o: { template?: string; environment?: string; templates?: string[]; policy?: Policy } = {}) {
  const stack = await testStack({ policy: o.policy });
  const { broker, clock } = stack;
  const agent = await broker.registerAgent({ templates: o.templates ?? ['fix-credentials', 'ops-maintenance'] });
  const opened = await agent.openTask(o.template ?? 'fix-credentials', o.environment ?? 'staging');
  if (opened.status !== 200) throw new Error(`open: ${opened.status} ${JSON.stringify(opened.body)}`);
  const dpop = await agent.dpopKey();
  const state: TaskState = {
    version: 1,
    url: ISSUER,
    issuer: ISSUER,
    client_id: agent.clientId,
    task_id: opened.body.task_id,
    template: o.template ?? 'fix-credentials',
    environment: o.environment ?? 'staging',
    purpose: 'rotate the staging DB password',
    task_token: opened.body.access_token,
    expires_at: Math.floor(clock.now() / 1000) + opened.body.expires_in,
    dpop: { alg: 'EdDSA', private_jwk: await exportJWK(dpop.privateKey), public_jwk: dpop.publicJwk, jkt: dpop.jkt },
  };
  const fetchBroker = ((url: string, init?: RequestInit) => broker.app.request(url, init)) as typeof fetch;
  const cwd = workspace();
  async function guard(harness: Harness, event: unknown, opts: { env?: Record<string, string>; fetch?: typeof fetch; state?: TaskState | null; deadlineMs?: number } = {}) {
    const input = typeof event === 'string' ? event : JSON.stringify(event);
    const r = await runGuard({ harness, input, env: opts.env ?? { HOME: '/nonexistent', PATH: '/usr/bin' }, fetch: opts.fetch ?? fetchBroker, state: opts.state === undefined ? state : opts.state, nowSec: () => Math.floor(clock.now() / 1000), deadline: performance.now() + (opts.deadlineMs ?? 30_000) });
    return { ...r, out: r.rendered.stdout ? JSON.parse(r.rendered.stdout) : undefined };
  }
  const task = async () => (await broker.admin(`/v1/tasks/${state.task_id}`)).json() as Promise<any>;
  const agentStatus = async () => {
    const list = await broker.core.store.agents.get(agent.clientId);
    return list?.status;
  };
  return { ...stack, agent, state, guard, task, agentStatus, cwd };
}

/** Real-shaped hook events (see fixtures/*.json for the harnesses' own samples). */
export const claudeBash = (command: string, cwd: string, event = 'PreToolUse') => ({
  session_id: 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  transcript_path: '/home/dev/.claude/projects/checkout/a1b2c3d4.jsonl',
  cwd,
  permission_mode: 'default',
  hook_event_name: event,
  tool_name: 'Bash',
  tool_input: { command, description: 'Run a command' },
  tool_use_id: 'toolu_01ABC123',
});
export const claudeRead = (file_path: string, cwd: string) => ({
  session_id: 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  transcript_path: '/home/dev/.claude/projects/checkout/a1b2c3d4.jsonl',
  cwd,
  permission_mode: 'default',
  hook_event_name: 'PreToolUse',
  tool_name: 'Read',
  tool_input: { file_path },
  tool_use_id: 'toolu_01ABC124',
});
export const codexBash = (command: string, cwd: string) => ({
  session_id: '0199a0b1-c2d3-7e4f-8a9b-0c1d2e3f4a5b',
  transcript_path: null,
  cwd,
  hook_event_name: 'PreToolUse',
  model: 'gpt-5.1-codex',
  turn_id: '1',
  tool_name: 'Bash',
  tool_input: { command },
  tool_use_id: 'call_abc123',
});
export const cursorShell = (command: string, cwd: string) => ({
  conversation_id: 'c0ffee00-1234-4abc-9def-000000000001',
  generation_id: 'g-0001',
  model: 'claude-4.5-sonnet',
  hook_event_name: 'beforeShellExecution',
  cursor_version: '2.1.0',
  workspace_roots: [cwd],
  user_email: 'dev@example.com',
  command,
  cwd,
});
export const cursorRead = (file_path: string, content: string, cwd: string) => ({
  conversation_id: 'c0ffee00-1234-4abc-9def-000000000001',
  generation_id: 'g-0002',
  hook_event_name: 'beforeReadFile',
  workspace_roots: [cwd],
  file_path,
  content,
  attachments: [],
});
export const geminiShell = (command: string, cwd: string) => ({
  session_id: 'gemini-session-0001',
  transcript_path: '/home/dev/.gemini/tmp/chats/session-0001.json',
  cwd,
  hook_event_name: 'BeforeTool',
  timestamp: '2026-11-21T12:00:00.000Z',
  tool_name: 'run_shell_command',
  tool_input: { command, description: 'run it' },
});
export const geminiRead = (file_path: string, cwd: string) => ({
  session_id: 'gemini-session-0001',
  transcript_path: '/home/dev/.gemini/tmp/chats/session-0001.json',
  cwd,
  hook_event_name: 'BeforeTool',
  timestamp: '2026-11-21T12:00:00.000Z',
  tool_name: 'read_file',
  tool_input: { absolute_path: file_path },
});
