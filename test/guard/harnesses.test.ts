import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/guard/adapters/index.js';
import type { Harness } from '../../src/guard/event.js';
import { guardStack } from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const load = (harness: string, name: string, cwd: string) => JSON.parse(readFileSync(join(FIXTURES, harness, name), 'utf8').replaceAll('__CWD__', cwd));

describe('each harness’s own hook payloads and answer format', () => {
  it('parses every fixture into the normalised event', () => {
    for (const harness of readdirSync(FIXTURES)) {
      for (const f of readdirSync(join(FIXTURES, harness))) {
        const e = ADAPTERS[harness as Harness].parse(load(harness, f, '/work/project'));
        expect(e.harness).toBe(harness);
        expect(e.cwd).toBe('/work/project');
        if (/pre|before/i.test(f)) expect(e.stage).toBe('pre');
      }
    }
  });

  it('claude-code: allow exits 0 silently; a block is permissionDecision deny + exit 2 + reason on stderr; a stop adds continue:false', async () => {
    const s = await guardStack();
    const allow = await s.guard('claude-code', load('claude-code', 'pre-bash-benign.json', s.cwd));
    expect(allow.rendered).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    const block = await s.guard('claude-code', load('claude-code', 'pre-read-env.json', s.cwd));
    expect(block.rendered.exitCode).toBe(2);
    expect(block.out).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: expect.any(String) } });
    expect(block.rendered.stderr.trim()).toBe(block.out.hookSpecificOutput.permissionDecisionReason);
    const stop = await s.guard('claude-code', load('claude-code', 'pre-bash-incident.json', s.cwd));
    expect(stop.out).toMatchObject({ continue: false, stopReason: expect.stringMatching(/substitution/), hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(stop.rendered.exitCode).toBe(2);
    const failure = await s.guard('claude-code', load('claude-code', 'post-failure.json', s.cwd));
    expect(failure.rendered.exitCode).toBe(0); // after the call: nothing left to block
  });

  it('codex: same answer shape as Claude Code', async () => {
    const s = await guardStack();
    expect((await s.guard('codex', load('codex', 'pre-bash-benign.json', s.cwd))).rendered.exitCode).toBe(0);
    const stop = await s.guard('codex', load('codex', 'pre-bash-incident.json', s.cwd));
    expect(stop.out).toMatchObject({ continue: false, hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny' } });
  });

  it('codex: a failed PostToolUse (non-zero exit) becomes a tool_error signal', async () => {
    const s = await guardStack();
    const r = await s.guard('codex', load('codex', 'post-bash-failed.json', s.cwd));
    expect(r.rendered.exitCode).toBe(0);
    expect((await s.task()).events.some((e: any) => e.detail.signal === 'tool_error')).toBe(true);
  });

  it('cursor: {"permission":"allow"} exit 0, {"permission":"deny",user_message,agent_message} exit 2; postToolUseFailure is a tool_error', async () => {
    const s = await guardStack();
    const allow = await s.guard('cursor', load('cursor', 'before-shell-benign.json', s.cwd));
    expect(allow.out).toEqual({ permission: 'allow' });
    expect(allow.rendered.exitCode).toBe(0);
    const fail = await s.guard('cursor', load('cursor', 'post-tool-use-failure.json', s.cwd));
    expect(fail.out).toEqual({ permission: 'allow' });
    expect((await s.task()).events.some((e: any) => e.detail.signal === 'tool_error')).toBe(true);
    const deny = await s.guard('cursor', load('cursor', 'before-read-file-env.json', s.cwd));
    expect(deny.out).toEqual({ permission: 'deny', user_message: expect.any(String), agent_message: expect.any(String) });
    expect(deny.rendered.exitCode).toBe(2);
    const stop = await s.guard('cursor', load('cursor', 'before-shell-incident.json', s.cwd));
    expect(stop.out.permission).toBe('deny');
    expect(stop.rendered.exitCode).toBe(2);
  });

  it('gemini: {"decision":"deny",reason} exit 2; AfterTool with an error is a tool_error', async () => {
    const s = await guardStack();
    expect((await s.guard('gemini', load('gemini', 'before-tool-benign.json', s.cwd))).rendered.exitCode).toBe(0);
    await s.guard('gemini', load('gemini', 'after-tool-error.json', s.cwd));
    expect((await s.task()).events.some((e: any) => e.detail.signal === 'tool_error')).toBe(true);
    const stop = await s.guard('gemini', load('gemini', 'before-tool-incident.json', s.cwd));
    expect(stop.out).toMatchObject({ decision: 'deny', reason: expect.stringMatching(/substitution/), continue: false });
    expect(stop.rendered.exitCode).toBe(2);
  });
});
