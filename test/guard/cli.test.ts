import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installPlan, mergeConfig } from '../../src/cli/commands/guard.js';
import { HARNESSES } from '../../src/guard/adapters/index.js';
import { currentFile, loadState, saveState, type TaskState } from '../../src/guard/state.js';

const state: TaskState = {
  version: 1,
  url: 'http://127.0.0.1:8787',
  issuer: 'http://127.0.0.1:8787',
  client_id: 'agt_x',
  task_id: 'task_x',
  template: 'fix-credentials',
  environment: 'staging',
  purpose: 'p',
  task_token: 't',
  expires_at: 1,
  dpop: { alg: 'EdDSA', private_jwk: { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd' }, public_jwk: { kty: 'OKP', crv: 'Ed25519', x: 'x' }, jkt: 'j' },
};

describe('task set-up and hook installation', () => {
  it('keeps the current task (and its DPoP key) under STINT_HOME, mode 0600', () => {
    const home = join(mkdtempSync(join(tmpdir(), 'stint-home-')), '.stint');
    saveState(state, home);
    expect(statSync(currentFile(home)).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(loadState(home)).toEqual(state);
  });

  it('prints each harness’s hook configuration, with managed locations; Cursor fails closed', () => {
    for (const h of HARNESSES) {
      const plan = installPlan(h, 'node /opt/stint/dist/hook/stint-guard.mjs --harness ' + h);
      expect(plan.locations.managed.length).toBeGreaterThan(0);
      expect(JSON.stringify(plan.config)).toContain(`--harness ${h}`);
    }
    const cursor = installPlan('cursor', 'stint-guard');
    for (const entries of Object.values(cursor.config.hooks as Record<string, any[]>)) expect(entries[0]).toMatchObject({ failClosed: true });
    expect(Object.keys(cursor.config.hooks as object)).toEqual(expect.arrayContaining(['beforeShellExecution', 'beforeMCPExecution', 'beforeReadFile', 'preToolUse', 'postToolUse', 'postToolUseFailure']));
    expect(Object.keys(installPlan('claude-code').config.hooks as object)).toEqual(expect.arrayContaining(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']));
    expect(installPlan('claude-code').locations.managed.join()).toContain('managed-settings.json');
    expect(Object.keys(installPlan('gemini').config.hooks as object)).toEqual(['BeforeTool', 'AfterTool']);
  });

  it('merging into an existing settings file keeps other hooks and replaces its own', () => {
    const plan = installPlan('claude-code', 'node stint-guard.mjs --harness claude-code');
    const existing = { model: 'x', hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'lint.sh' }] }, { matcher: '*', hooks: [{ type: 'command', command: 'node old/stint-guard.mjs' }] }] } };
    const merged = mergeConfig(existing, plan);
    expect(merged.model).toBe('x');
    expect(merged.hooks.PreToolUse).toHaveLength(2);
    expect(JSON.stringify(merged.hooks.PreToolUse)).toContain('lint.sh');
    expect(JSON.stringify(merged.hooks.PreToolUse)).not.toContain('old/stint-guard');
  });
});
