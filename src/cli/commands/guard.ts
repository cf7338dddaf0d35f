// `stint guard --harness X` (the hook itself) and `stint guard install --harness X [--write]`
// (the hook configuration for that harness, with its managed/enterprise locations).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { HARNESSES } from '../../guard/adapters/index.js';
import type { Harness } from '../../guard/event.js';
import { guardMain } from '../../guard/main.js';
import { fail } from '../shared.js';

type Scope = 'user' | 'project' | 'managed';

/** The command a harness runs: the pre-built bundle when there is one (fast), else the CLI. */
export function hookCommand(harness: Harness): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const bundle = join(root, 'dist/hook/stint-guard.mjs');
  return existsSync(bundle) ? `node ${JSON.stringify(bundle).slice(1, -1)} --harness ${harness}` : `npx --no-install stint guard --harness ${harness}`;
}

export interface InstallPlan {
  harness: Harness;
  /** Where the configuration goes, per scope (managed: per OS). */
  locations: Record<Scope, string[]>;
  config: Record<string, unknown>;
  notes: string[];
}

export function installPlan(harness: Harness, command = hookCommand(harness)): InstallPlan {
  const home = homedir();
  const hook = (timeout: number) => ({ type: 'command', command, timeout });
  switch (harness) {
    case 'claude-code': {
      const group = [{ matcher: '*', hooks: [hook(10)] }];
      return {
        harness,
        locations: {
          user: [join(home, '.claude/settings.json')],
          project: ['.claude/settings.json'],
          managed: ['/etc/claude-code/managed-settings.json (Linux)', '/Library/Application Support/ClaudeCode/managed-settings.json (macOS)', 'C:\\ProgramData\\ClaudeCode\\managed-settings.json (Windows)'],
        },
        config: { hooks: { PreToolUse: group, PostToolUse: group, PostToolUseFailure: group, UserPromptSubmit: [{ hooks: [hook(10)] }], SessionStart: [{ hooks: [hook(10)] }] } },
        notes: ['In managed settings, add "allowManagedHooksOnly": true so that user and project hooks cannot replace it.', 'Claude Code lets a call run when a hook crashes or times out: the guard always answers, and exits 2 to block.'],
      };
    }
    case 'codex': {
      const group = [{ matcher: '.*', hooks: [hook(10)] }];
      return {
        harness,
        locations: { user: [join(home, '.codex/hooks.json')], project: ['.codex/hooks.json'], managed: ['/etc/codex/hooks.json (beside the managed /etc/codex/config.toml and requirements.toml)'] },
        config: { hooks: { PreToolUse: group, PostToolUse: group, UserPromptSubmit: [{ hooks: [hook(10)] }], SessionStart: [{ hooks: [hook(10)] }] } },
        notes: ['Enable hooks in config.toml: [features] codex_hooks = true', 'Codex lets a call run when a hook fails: the guard always answers, and exits 2 to block.'],
      };
    }
    case 'cursor': {
      const entry = [{ command, failClosed: true, timeout: 10 }];
      return {
        harness,
        locations: {
          user: [join(home, '.cursor/hooks.json')],
          project: ['.cursor/hooks.json'],
          managed: ['/etc/cursor/hooks.json (Linux)', '/Library/Application Support/Cursor/hooks.json (macOS)', 'C:\\ProgramData\\Cursor\\hooks.json (Windows)'],
        },
        config: { version: 1, hooks: { beforeShellExecution: entry, beforeMCPExecution: entry, beforeReadFile: entry, preToolUse: entry, postToolUse: entry, postToolUseFailure: entry } },
        notes: ['failClosed: true makes Cursor block the call when the hook crashes or times out (its default is to let it run).'],
      };
    }
    case 'gemini': {
      const group = [{ matcher: '.*', hooks: [{ type: 'command', command, timeout: 10_000 }] }];
      return {
        harness,
        locations: {
          user: [join(home, '.gemini/settings.json')],
          project: ['.gemini/settings.json'],
          managed: ['/etc/gemini-cli/settings.json (Linux)', '/Library/Application Support/GeminiCli/settings.json (macOS)', 'C:\\ProgramData\\gemini-cli\\settings.json (Windows)'],
        },
        config: { hooks: { BeforeTool: group, AfterTool: group } },
        notes: ['Gemini CLI lets a call run when a hook fails with anything but exit 2: the guard always answers, and exits 2 to block.'],
      };
    }
  }
}

/** Merges the plan into an existing settings file: stint's previous entries are replaced, others kept. */
export function mergeConfig(existing: Record<string, any>, plan: InstallPlan): Record<string, any> {
  const out: Record<string, any> = { ...existing, ...(plan.config.version ? { version: plan.config.version } : {}) };
  const hooks = { ...(existing.hooks ?? {}) };
  for (const [event, entries] of Object.entries(plan.config.hooks as Record<string, unknown[]>)) {
    const kept = (Array.isArray(hooks[event]) ? hooks[event] : []).filter((e: unknown) => !JSON.stringify(e).includes('stint-guard') && !JSON.stringify(e).includes('stint guard'));
    hooks[event] = [...kept, ...entries];
  }
  out.hooks = hooks;
  return out;
}

export function register(program: Command): void {
  // One command with an optional action word, so that `guard --harness x` and
  // `guard install --harness x` share their options whatever the program's option parsing.
  program
    .command('guard [action]')
    .description("the harness hook: reads one hook event on stdin and answers in the harness's format (exit 0 allow, 2 block); `guard install` prints (or writes) the hook configuration")
    .option('--harness <harness>', HARNESSES.join('|'))
    .option('--scope <scope>', 'install: project (this folder only) | user (every session of this user) | managed', 'project')
    .option('--write', 'install: merge it into the settings file of that scope')
    .option('--command <command>', 'install: the hook command (default: the pre-built guard)')
    .option('--json', 'install: print JSON')
    .option('--run', 'install: for a harness started by `stint run` (the hook asks the run\'s supervisor; no task file is read)')
    .action(async (action: string | undefined, o) => {
      if (action === undefined) return guardMain(['--harness', o.harness ?? '']);
      if (action !== 'install') {
        fail(`unknown guard action "${action}" (install, or none for the hook itself)`);
      }
      install(o);
    });
}

function install(o: { harness?: string; scope: string; write?: boolean; command?: string; json?: boolean; run?: boolean }) {
  if (!HARNESSES.includes(o.harness as Harness)) {
    fail(`--harness must be one of ${HARNESSES.join(', ')}`);
  }
  const plan = installPlan(o.harness as Harness, o.command);
  if (o.run) {
    plan.notes.push(
      'for `stint run … -- <harness>`: the same hook, started inside the sandbox, finds STINT_RUN_GUARD and asks the run\'s supervisor over the sandbox socket; the supervisor holds the task token and its DPoP key, so no file the agent can write (current.json, the agent key) decides anything',
      'start the harness as: npx stint run --template T --environment E --purpose "…" --env NAME=<custody> -- <harness>',
    );
  }
  const scope = o.scope as Scope;
  if (!(scope in plan.locations)) {
    fail('--scope must be user, project or managed');
  }
  if (o.write) {
    if (scope === 'managed') {
      fail('managed locations are deployed by your device management; print the configuration (without --write) and deploy it there');
    }
    const file = resolve(plan.locations[scope][0]!);
    let existing: Record<string, any> = {};
    if (existsSync(file)) {
      try {
        existing = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        fail(`${file} is not JSON (${(e as Error).message}); not touched`);
      }
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(mergeConfig(existing, plan), null, 2)}\n`);
    // The guard fails closed: with no current task it blocks every call, Read included.
    console.error(`stint: every ${plan.harness} session ${scope === 'user' ? 'of this user, in every folder,' : 'in this folder'} now asks the guard before each tool call; with no current task ("stint task open") every call is blocked`);
    console.log(o.json ? JSON.stringify({ written: file }) : `wrote the stint guard hooks for ${plan.harness} into ${file}`);
    return;
  }
  if (o.json) return console.log(JSON.stringify(plan, null, 2));
  console.log(`# ${plan.harness}: put this in one of`);
  for (const [s, files] of Object.entries(plan.locations)) console.log(`#   ${s.padEnd(8)} ${files.join('\n#            ')}`);
  for (const n of plan.notes) console.log(`# ${n}`);
  console.log(JSON.stringify(plan.config, null, 2));
}
