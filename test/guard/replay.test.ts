// `stint replay` (CONTRACT.md, "Shadow mode"): a recorded session judged offline against the
// policy, no broker, no network; one decision per tool call, and a digest that is the same on
// every run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/guard/replay.js';
import { compilePolicy } from '../../src/policy/load.js';
import { defaultPolicy, POLICIES_DIR } from '../helpers/policy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRANSCRIPT = join(ROOT, 'test/guard/transcripts/claude-transcript.jsonl');
const transcript = readFileSync(TRANSCRIPT, 'utf8');

const brief = (r: Awaited<ReturnType<typeof replay>>) => r.decisions.map((d) => [d.line, d.tool, d.decision, d.rule ?? '']);

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    // no STINT_URL, no broker anywhere: replay must not need one
    const child = spawn(process.execPath, ['--import', `file://${join(ROOT, 'node_modules/tsx/dist/loader.mjs')}`, join(ROOT, 'src/cli/main.ts'), 'replay', ...args], { env: { PATH: process.env.PATH, HOME: '/nonexistent', STINT_URL: 'http://127.0.0.1:9' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe('stint replay', () => {
  it('a Claude Code transcript: one decision per tool_use block, as enforcement would decide, the task never stopped along the way', async () => {
    const r = await replay({ text: transcript, policy: defaultPolicy(), template: 'fix-credentials', environment: 'staging' });
    expect(brief(r)).toEqual([
      [3, 'Bash', 'allow', ''], // npm test
      [5, 'Read', 'allow', ''], // README.md
      [7, 'Grep', 'allow', ''], // TODO, file names only
      [9, 'Bash', 'stop', 'substitution'], // the incident: a Railway token in a header
      [11, 'Bash', 'block', 'uncertain'], // DROP TABLE at a database named by $DATABASE_URL
      [12, 'Bash', 'stop', 'destructive_outside_ceiling'], // DELETE a staging volume, not in fix-credentials
      [13, 'Edit', 'stop', 'substitution'], // an AWS key written into a file
      [14, 'Edit', 'allow', ''], // process.env.DB_PASSWORD: a reference, not a credential
      [15, 'Bash', 'allow', ''], // git status
      [15, 'Write', 'block', 'unreadable'], // a tool_use without input
    ]);
    expect(r.counts).toEqual({ allow: 5, block: 2, approval: 0, stop: 3 });
    // never a credential's value in what it prints
    expect(JSON.stringify(r)).not.toContain('3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d');
    expect(JSON.stringify(r)).not.toContain('AKIA2E0A8F3B244C9986');
  });

  it('the digest is the same on every run, and changes with the decisions', async () => {
    const a = await replay({ text: transcript, policy: defaultPolicy(), template: 'fix-credentials', environment: 'staging' });
    const b = await replay({ text: transcript, policy: defaultPolicy(), template: 'fix-credentials', environment: 'staging' });
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
    expect(b.decisions).toEqual(a.decisions);
    // a new matcher (in shadow mode, as a new rule would be tried): replay shows what it would do
    const files = ['actions.yaml', 'approvals.yaml', 'capabilities.yaml', 'environments.yaml', 'templates.yaml'].map((n) => ({ file: n, text: readFileSync(join(POLICIES_DIR, n), 'utf8') }));
    const withMatcher = compilePolicy([...files, { file: 'new.yaml', text: 'actions:\n  - capability: db.drop\n    command: { argv: [git, status] }\n    mode: shadow\n' }]);
    const c = await replay({ text: transcript, policy: withMatcher, template: 'fix-credentials', environment: 'staging' });
    expect(brief(c)[8]).toEqual([15, 'Bash', 'stop', 'environment_mismatch']);
    expect(c.digest).not.toBe(a.digest);
  });

  it('a JSONL of hook events of several harnesses, under a production template: approvals, and an unreadable event blocked', async () => {
    const cwd = '/home/dev/ops';
    const lines = [
      { conversation_id: 'c1', generation_id: 'g1', hook_event_name: 'beforeShellExecution', command: 'kubectl get pods', cwd, workspace_roots: [cwd] },
      { session_id: 's1', cwd, hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'curl -X DELETE https://api.production.example/volumes/vol_7' } },
      { session_id: 's2', cwd, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'curl -X DELETE https://api.staging.example/backups/b1' } },
      { session_id: 's2', cwd, hook_event_name: 'PreToolUse', tool_input: { command: 'ls' } },
      { session_id: 's2', cwd, hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_response: { stdout: '' } },
    ];
    const r = await replay({ text: lines.map((l) => JSON.stringify(l)).join('\n'), policy: defaultPolicy(), template: 'ops-maintenance', environment: 'production' });
    expect(brief(r)).toEqual([
      [1, 'Shell', 'allow', ''],
      [2, 'run_shell_command', 'approval', 'destructive_action'],
      [3, 'Bash', 'stop', 'environment_mismatch'],
      [4, '(unknown)', 'block', 'unreadable'],
    ]);
  });

  it('the command line: --json, text with the digest, the same digest as in process; exit 2 with a one-line reason on bad input', async () => {
    const inProcess = await replay({ text: transcript, policy: defaultPolicy(), template: 'fix-credentials', environment: 'staging' });
    const json = await cli([TRANSCRIPT, '--template', 'fix-credentials', '--environment', 'staging', '--policies', POLICIES_DIR, '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.digest).toBe(inProcess.digest);
    expect(out.decisions).toHaveLength(10);

    const text = await cli([TRANSCRIPT, '--template', 'fix-credentials', '--environment', 'staging', '--policies', POLICIES_DIR]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`digest sha256:${inProcess.digest}`);
    expect(text.stdout).toMatch(/#4 +line 9 +Bash +stop +substitution/);
    expect(text.stdout).toContain('10 tool calls: 5 allow, 2 block, 0 approval, 3 stop');

    const template = await cli([TRANSCRIPT, '--template', 'nope', '--environment', 'staging', '--policies', POLICIES_DIR, '--json']);
    expect(template.code).toBe(2);
    expect(JSON.parse(template.stderr)).toMatchObject({ error: 'failed', error_description: expect.stringContaining('unknown template "nope"') });

    const dir = mkdtempSync(join(tmpdir(), 'stint-replay-'));
    writeFileSync(join(dir, 'broken.jsonl'), '{"type":"assistant"}\nnot json\n');
    const broken = await cli([join(dir, 'broken.jsonl'), '--template', 'fix-credentials', '--environment', 'staging', '--policies', POLICIES_DIR]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^stint: .*line 2 is not JSON\n$/);

    const missing = await cli([join(dir, 'absent.jsonl'), '--template', 'fix-credentials', '--environment', 'staging', '--policies', POLICIES_DIR]);
    expect(missing.code).toBe(2);
    expect((await cli([TRANSCRIPT, '--template', 'fix-credentials', '--environment', 'staging', '--policies', dir])).code).toBe(2);
  }, 60_000);
});
