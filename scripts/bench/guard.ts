// The guard's cost per tool call, as a harness pays it: spawn the pre-built hook, write one hook
// event on its stdin, wait for its answer (which includes the broker's round trip on loopback).
// Beside it, in the same run and interleaved, a bare `node -e ""`: the floor any Node hook has,
// and the hook deciding in its own process (STINT_GUARD_WARM=0: no warm guard, as on a first call).
// Run: npm run bench:guard   (RUNS=100 by default)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatorClient } from '../../src/client/operator.js';
import { openCurrentTask } from '../guard-task.js';
import { loadPolicyDir } from '../../src/policy/node.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { listen } from '../../src/runtime/node/serve.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { summary } from './stats.js';

const RUNS = Number(process.env.RUNS ?? 100);
const ADMIN = `bench-${crypto.randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'stint-bench-guard-'));
const port = await freePort();
const issuer = `http://127.0.0.1:${port}`;
const broker = await createNodeBroker({ dbPath: join(dir, 'stint.db'), policy: loadPolicyDir('policies'), issuer, adminToken: ADMIN, masterKey: crypto.getRandomValues(new Uint8Array(32)) });
const server = await listen(broker.app, '127.0.0.1', port);
const op = new OperatorClient(issuer, ADMIN);
const agent = await op.agent('bench-coder', 'alice', ['fix-credentials']);
const home = join(dir, 'home');
const opened = await openCurrentTask(agent, { issuer, template: 'fix-credentials', environment: 'staging', purpose: 'benchmark the guard', home });
const ws = join(dir, 'ws');
writeFileSync(join(dir, 'README.md'), '# hello\n');

const events = {
  'Bash: git status': { session_id: 's', cwd: dir, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'git status && npm test -- --run' } },
  'Bash: curl staging, own token': { session_id: 's', cwd: dir, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'curl -s https://api.staging.example/config -H "Authorization: DPoP $STINT_TOKEN" | jq .' } },
  'Read: README.md': { session_id: 's', cwd: dir, hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: join(dir, 'README.md') } },
};
void ws;

function run(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, out }));
    child.stdin.end(input);
  });
}

// the warm guard's socket in a directory of this run's (removed at the end: the warm guard leaves)
const runtime = join(dir, 'runtime');
mkdirSync(runtime, { mode: 0o700 });
const env = { ...process.env, STINT_HOME: home, STINT_TOKEN: opened.body.access_token, XDG_RUNTIME_DIR: runtime };
const alone = { ...env, STINT_GUARD_WARM: '0' };
const bundle = new URL('../../dist/hook/stint-guard.mjs', import.meta.url).pathname;
const bare: number[] = [];
const guard: Record<string, number[]> = Object.fromEntries(Object.keys(events).map((k) => [k, []]));
const guardAlone: Record<string, number[]> = Object.fromEntries(Object.keys(events).map((k) => [k, []]));
// warm the file cache once
await run('node', ['-e', '']
, '', env);
for (const [name, ev] of Object.entries(events)) {
  const r = await run('node', [bundle, '--harness', 'claude-code'], JSON.stringify(ev), env);
  if (r.code !== 0) throw new Error(`${name}: the guard did not allow it (${r.code}): ${r.out}`);
}
// the first call started the warm guard: wait for its socket, and let it compile what the calls use
const guardDir = join(runtime, readdirSync(runtime)[0] ?? '-');
for (let t = 0; !(existsSync(guardDir) && readdirSync(guardDir).some((f) => f.endsWith('.sock'))); t++) {
  if (t > 200) throw new Error('the warm guard did not start');
  await new Promise((r) => setTimeout(r, 50));
}
for (let i = 0; i < 5; i++) for (const ev of Object.values(events)) await run('node', [bundle, '--harness', 'claude-code'], JSON.stringify(ev), env);
for (let i = 0; i < RUNS; i++) {
  bare.push((await run('node', ['-e', ''], '', env)).ms);
  for (const [name, ev] of Object.entries(events)) {
    guard[name]!.push((await run('node', [bundle, '--harness', 'claude-code'], JSON.stringify(ev), env)).ms);
    guardAlone[name]!.push((await run('node', [bundle, '--harness', 'claude-code'], JSON.stringify(ev), alone)).ms);
  }
}
server.close();
rmSync(runtime, { recursive: true, force: true });

const b = summary(bare);
const rows = [
  ['bare `node -e ""`', b],
  ...Object.entries(guard).map(([k, v]) => [`stint guard, ${k}`, summary(v)] as const),
  ...Object.entries(guardAlone).map(([k, v]) => [`stint guard deciding alone (no warm guard), ${k}`, summary(v)] as const),
] as [string, ReturnType<typeof summary>][];
console.log(`\nstint guard, spawned as a harness does (claude-code hook format, broker on loopback), ${RUNS} runs each, interleaved\n`);
console.log('| what | p50 | p99 | max | p50 ÷ bare node p50 |');
console.log('|---|---|---|---|---|');
for (const [name, s] of rows) console.log(`| ${name} | ${s.p50.toFixed(1)} ms | ${s.p99.toFixed(1)} ms | ${s.max.toFixed(1)} ms | ${(s.p50 / b.p50).toFixed(2)}× |`);
console.log(`\ntargets (issue 19): p50 ≤ 1.5× bare node, p99 ≤ 250 ms. Node ${process.version}, ${new Date().toISOString()}`);
process.exit(0);
