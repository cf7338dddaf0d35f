// Runs corpus entries through the guard against a real broker (default policy, on a loopback
// port): in this process through the hook's own code (runGuard), or as a harness runs it: the
// command `stint guard install` writes, spawned through a shell, the event on its stdin, killed
// at the configured time-out (when Claude Code, Codex and Gemini run the call anyway; Cursor,
// with failClosed, blocks it).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { installPlan } from '../../../src/cli/commands/guard.js';
import { OperatorClient } from '../../../src/client/operator.js';
import type { Harness } from '../../../src/guard/event.js';
import { runGuard } from '../../../src/guard/run.js';
import { loadPolicyDir } from '../../../src/policy/node.js';
import { freePort } from '../../../src/runtime/node/launch.js';
import { listen } from '../../../src/runtime/node/serve.js';
import { createNodeBroker } from '../../../src/runtime/node/wire.js';
import { openCurrentTask } from '../../../scripts/guard-task.js';
import { SECRETS, stdinOf, type CorpusEntry, type CorpusVars } from './workspace.js';

export type Outcome = 'allow' | 'block' | 'stop';
export interface Result {
  entry: CorpusEntry;
  outcome: Outcome;
  /** The guard's reason (its first line), for a call it did not allow. */
  reason: string;
  /** Spawned only: the hook was killed at the harness's time-out. */
  timedOut?: boolean;
  /** Spawned only: wall time of the hook, and of a bare `node -e ""` spawned just before it. */
  ms?: number;
  bareMs?: number;
  /** Spawned with a breakdown: the same hook with no current task (start, read, answer; no analysis, no broker). */
  startMs?: number;
}

const root = new URL('../../../', import.meta.url).pathname;
/** A DPoP proof's shape (typ dpop+jwt): not a credential. */
const PROOF = 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVkRFNBIn0.eyJodG0iOiJHRVQifQ.c2lnbmF0dXJl';

/** A broker on a loopback port with the default policy, and fresh staging tasks on demand. */
export async function corpusBroker() {
  const dir = mkdtempSync(join(tmpdir(), 'stint-corpus-broker-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const admin = `corpus-${crypto.randomUUID()}`;
  const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir(join(root, 'policies')), issuer, adminToken: admin, masterKey: crypto.getRandomValues(new Uint8Array(32)), rateLimit: false });
  const server = await listen(broker.app, '127.0.0.1', port);
  const op = new OperatorClient(issuer, admin);
  let k = 0;
  /** A new agent with a staging task saved as the current task under its own STINT_HOME. */
  async function task(): Promise<{ home: string; token: string }> {
    const agent = await op.agent(`corpus-agent-${++k}`, 'alice', ['fix-credentials']);
    const home = join(dir, `home-${k}`);
    mkdirSync(home, { recursive: true });
    const opened = await openCurrentTask(agent, { issuer, template: 'fix-credentials', environment: 'staging', purpose: 'fix the staging billing service', home });
    return { home, token: opened.body.access_token as string };
  }
  return { issuer, task, close: () => server.close() };
}

/** The environment the harness gives its hook: the developer's shell, with the task's token. */
export function hookEnv(v: CorpusVars, home: string, token: string): Record<string, string> {
  // XDG_RUNTIME_DIR: the warm guard's directory of this run (test/warm-dir.setup.ts, scripts/guard-corpus.ts)
  const runtime: Record<string, string> = process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {};
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: v.HOME, LANG: 'C.UTF-8', STINT_HOME: home, STINT_TOKEN: token, STINT_PROOF: PROOF, GITHUB_TOKEN: SECRETS.GH, AWS_PROFILE: 'staging', ...runtime };
}

/** The hook command and time-out (ms) `stint guard install` configures for a harness. */
export function installed(harness: Harness): { command: string; timeoutMs: number } {
  const hooks = installPlan(harness).config.hooks as Record<string, any[]>;
  if (harness === 'cursor') return { command: hooks.preToolUse![0].command, timeoutMs: hooks.preToolUse![0].timeout * 1000 };
  const first = (hooks.PreToolUse ?? hooks.BeforeTool)![0].hooks[0];
  return { command: first.command, timeoutMs: harness === 'gemini' ? first.timeout : first.timeout * 1000 };
}

function classify(exitCode: number | null, stdout: string, stderr: string): { outcome: Outcome; reason: string } {
  if (exitCode === 0) return { outcome: 'allow', reason: '' };
  let out: any;
  try {
    out = JSON.parse(stdout);
  } catch {
    out = undefined;
  }
  const reason = stderr.trim().split('\n')[0] ?? '';
  if (exitCode !== 2) return { outcome: 'allow', reason: `exit ${exitCode} (the harness runs the call): ${reason}` };
  return { outcome: out?.continue === false ? 'stop' : 'block', reason };
}

/** One entry in this process, through the hook's own code. */
export async function runInProcess(entry: CorpusEntry, v: CorpusVars, task: { home: string; token: string }, deadlineMs = 30_000): Promise<Result> {
  const env = hookEnv(v, task.home, task.token);
  const r = await runGuard({ harness: entry.harness, input: stdinOf(entry, v), env, deadline: performance.now() + deadlineMs });
  return { entry, ...classify(r.rendered.exitCode, r.rendered.stdout, r.rendered.stderr) };
}

function spawnTimed(command: string, input: string, env: Record<string, string>, timeoutMs: number, cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean }>((resolve, reject) => {
    const t0 = performance.now();
    // as the harnesses run a command hook: through a shell, the event on stdin
    const child = spawn('/bin/sh', ['-c', command], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** One entry as the harness runs it: the installed command, spawned, beside a bare `node -e ""`. */
export async function runSpawned(entry: CorpusEntry, v: CorpusVars, task: { home: string; token: string }, extraEnv: Record<string, string> = {}, breakdown = false): Promise<Result> {
  const env = { ...hookEnv(v, task.home, task.token), ...extraEnv };
  const { command, timeoutMs } = installed(entry.harness);
  const bare = await spawnTimed('node -e ""', '', env, timeoutMs, v.CWD);
  const start = breakdown ? await spawnTimed(command, stdinOf(entry, v), { ...env, STINT_HOME: join(v.HOME, 'no-task') }, timeoutMs, v.CWD) : undefined;
  const r = await spawnTimed(command, stdinOf(entry, v), env, timeoutMs, v.CWD);
  if (r.timedOut) {
    // past the time-out: Cursor (failClosed) blocks; the others run the call
    const outcome: Outcome = entry.harness === 'cursor' ? 'block' : 'allow';
    return { entry, outcome, reason: `timed out after ${timeoutMs} ms`, timedOut: true, ms: r.ms, bareMs: bare.ms, ...(start ? { startMs: start.ms } : {}) };
  }
  return { entry, ...classify(r.code, r.stdout, r.stderr), ms: r.ms, bareMs: bare.ms, ...(start ? { startMs: start.ms } : {}) };
}

/**
 * Runs entries in order: each harness's benign session on one task (a fresh one after a stop,
 * which locks the agent), each attack on a fresh task of its own.
 */
export async function runCorpus(entries: CorpusEntry[], v: CorpusVars, broker: Awaited<ReturnType<typeof corpusBroker>>, run: (e: CorpusEntry, t: { home: string; token: string }) => Promise<Result>, onResult?: (r: Result) => void): Promise<Result[]> {
  const sessions = new Map<string, { home: string; token: string }>();
  const foreign = await broker.task();
  // another agent's stint token, for the entries that present one
  v.FOREIGN_STINT ??= foreign.token;
  const results: Result[] = [];
  for (const e of entries) {
    let t: { home: string; token: string };
    if (e.kind === 'benign') {
      t = sessions.get(e.harness) ?? (await broker.task());
      sessions.set(e.harness, t);
    } else t = await broker.task();
    const r = await run(e, t);
    if (r.outcome === 'stop' && e.kind === 'benign') sessions.delete(e.harness);
    if (r.outcome === 'allow' && e.applies) applyWrite(e, v);
    results.push(r);
    onResult?.(r);
  }
  return results;
}

/** Performs an allowed write as the harness would (Write, write_file, Cursor's Write). */
function applyWrite(e: CorpusEntry, v: CorpusVars) {
  const ev = JSON.parse(stdinOf(e, v)) as { tool_input?: Record<string, unknown> };
  const ti = ev.tool_input ?? {};
  const path = (ti.file_path ?? ti.absolute_path) as string | undefined;
  const content = (ti.content ?? ti.contents) as string | undefined;
  if (!path || content === undefined) throw new Error(`${e.id}: applies, but is not a write`);
  const p = isAbsolute(path) ? path : join(v.CWD, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content, { mode: 0o755 });
}
