// `stint run … -- <command>`: the supervisor. It opens (or uses) the task, holds the task token,
// its DPoP key and the custody values, serves the egress proxy on a unix socket, follows the
// task's event stream, and runs the command in the sandbox (src/egress/sandbox.ts), where the
// only way out is that proxy and the only credentials are placeholders.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Placeholders } from '../../egress/placeholders.js';
import { createEgressProxy, DEFAULT_BODY_CAP, GUARD_PATH, parseResolve } from '../../egress/proxy.js';
import { bwrapArgv, INSIDE_CA, sandboxUnavailable } from '../../egress/sandbox.js';
import { completeTask, egressSession, followTask } from '../../egress/supervisor.js';
import { failClosed, startWatchdog } from '../../egress/watchdog.js';
import { evaluate } from '../../guard/client.js';
import { loadState, stintHome, type TaskState } from '../../guard/state.js';
import { warmDirCandidates } from '../../guard/warm.js';
import { generateAgentKey, StintAgent } from '../../sdk/agent.js';
import { agentBrokerUrl, brokerCall, exportKey, loadKey } from '../agent.js';
import { fail } from '../shared.js';

interface RunOpts {
  template?: string;
  environment?: string;
  purpose?: string;
  env: string[];
  clientId?: string;
  key?: string;
  url?: string;
  issuer?: string;
  sandbox: boolean;
  bodyCap?: string;
  complete: boolean;
}

/** Stop signal to the whole process group, then SIGKILL after `graceMs`. */
function terminate(child: ChildProcess, graceMs = 5000) {
  if (child.exitCode !== null || child.pid === undefined) return;
  const group = -child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const t = setTimeout(() => {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, graceMs);
  t.unref();
}

async function openTask(o: RunOpts): Promise<{ state: TaskState; opened: boolean }> {
  if (!o.template) {
    const s = loadState();
    if (!s) return fail(`no --template and no current task in ${stintHome()} (run "stint task open", or give --template/--environment/--purpose)`);
    return { state: s, opened: false };
  }
  if (!o.environment || !o.purpose) return fail('--template needs --environment and --purpose');
  const clientId = o.clientId ?? process.env.STINT_CLIENT_ID ?? fail('--client-id (or STINT_CLIENT_ID) is required');
  const keyFile = o.key ?? process.env.STINT_AGENT_KEY ?? fail('--key (or STINT_AGENT_KEY) is required');
  const url = agentBrokerUrl(o);
  const agent = new StintAgent({ url, issuer: o.issuer ?? process.env.STINT_ISSUER, clientId, key: await loadKey(keyFile) });
  const dpop = await generateAgentKey();
  const task = await brokerCall(url, () => agent.openTask({ template: o.template!, environment: o.environment!, purpose: o.purpose! }, { dpopKey: dpop }));
  const state: TaskState = {
    version: 1,
    url,
    issuer: await agent.issuer(),
    client_id: clientId,
    task_id: task.id,
    template: o.template,
    environment: o.environment,
    purpose: o.purpose,
    task_token: task.taskToken,
    expires_at: Math.floor(task.expiresAt / 1000),
    dpop: await exportKey(dpop),
    agent_key: resolve(keyFile),
  };
  return { state, opened: true };
}

export function register(program: Command): void {
  program
    .command('run')
    .description("run a command as the agent's sandbox: its only network is stint's egress proxy, its only credentials placeholders")
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--template <template>', 'open a task from this template (else: the current task)')
    .option('--environment <environment>', 'the task environment')
    .option('--purpose <text>', 'what the task is for')
    .option('--env <NAME=custody>', 'set NAME inside to a placeholder of that custody entry (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--client-id <id>', 'the agent (or STINT_CLIENT_ID)')
    .option('--key <file>', 'the agent key file (or STINT_AGENT_KEY)')
    .option('--url <url>', 'the broker (or STINT_URL)')
    .option('--issuer <url>', "the broker's issuer, if not its URL (or STINT_ISSUER)")
    .option('--no-sandbox', 'no network namespace: proxy variables only (a cooperative boundary)')
    .option('--body-cap <bytes>', `largest request body read at an inspected host (default ${DEFAULT_BODY_CAP})`)
    .option('--no-complete', 'leave the task open when the command ends (default: a task this run opened is completed)')
    .addHelpText('after', '\nExit status: the command\'s own; 3 when stint stopped the task; 2 when the run could not start.')
    .action(async (argv: string[], o: RunOpts) => {
      const bindings = o.env.map((b) => {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=([a-z][a-z0-9_.-]*)$/.exec(b);
        return m ? { name: m[1]!, custody: m[2]! } : fail(`--env ${b}: expected NAME=<custody name>`);
      });
      const unavailable = o.sandbox ? sandboxUnavailable() : undefined;
      if (unavailable) fail(`no sandbox can be made: ${unavailable}; refusing to start (--no-sandbox runs with proxy variables only, a cooperative boundary)`);
      const cap = o.bodyCap ? Number(o.bodyCap) : DEFAULT_BODY_CAP;
      if (!Number.isInteger(cap) || cap < 1024) fail('--body-cap must be a whole number of bytes, at least 1024');

      const { state, opened } = await openTask(o);
      console.error(`stint run: task ${state.task_id}`);
      let session;
      try {
        session = await egressSession(state, [...new Set(bindings.map((b) => b.custody))]);
      } catch (e) {
        if (opened) await completeTask(state);
        return fail(`the egress session was refused: ${(e as Error).message}`);
      }
      const placeholders = new Placeholders(state.task_id);
      const byName = new Map(session.custody.map((c) => [c.name, c]));
      const vars: Record<string, string> = {};
      for (const b of bindings) vars[b.name] = placeholders.issue(byName.get(b.custody)!);

      // Loaded here only: the X.509 library is the heaviest import of the CLI.
      const { createRunCa } = await import('../../egress/ca.js');
      const ca = await createRunCa();
      const runDir = mkdtempSync(join(tmpdir(), 'stint-run-'));
      chmodSync(runDir, 0o700);
      writeFileSync(join(runDir, 'ca.pem'), ca.certPem, { mode: 0o644 });

      let stop: { rule: string; reason: string } | undefined;
      let child: ChildProcess | undefined;
      const onStop = (rule: string, reason: string) => {
        if (stop) return;
        stop = { rule, reason };
        proxy.halt(rule, reason);
        if (child) terminate(child);
      };
      const follower = followTask(state, {
        onEnd: (status, reason) => {
          proxy.halt(`task_${status}`, reason);
          if (status === 'stopped' || status === 'revoked') onStop(status === 'stopped' ? 'task_stopped' : 'task_revoked', reason);
        },
      });
      const upstreamCaFile = process.env.STINT_EGRESS_UPSTREAM_CA;
      const proxy = createEgressProxy({
        taskId: state.task_id,
        taskToken: state.task_token,
        issuer: state.issuer,
        ca,
        placeholders,
        custody: session.custody,
        inspect: session.inspect,
        allow: session.allow,
        graphqlHosts: session.graphql,
        decideMethods: session.methods,
        // under 5 s, so that a broker that cannot decide is a refusal within the contract's 5 s
        decide: (facts) => evaluate(state, facts, 4000),
        liveness: () => follower.liveness(),
        onStop: (rule, reason) => onStop(rule, reason),
        resolve: parseResolve(process.env.STINT_EGRESS_RESOLVE),
        upstreamCa: upstreamCaFile ? readFileSync(upstreamCaFile, 'utf8') : undefined,
        bodyCap: cap,
        log: process.env.STINT_EGRESS_LOG ? (l) => console.error(`stint run: ${JSON.stringify(l)}`) : undefined,
      });
      const socketPath = join(runDir, 'proxy.sock');
      const listening = o.sandbox
        ? new Promise<string>((r) => proxy.server.listen(socketPath, () => r(socketPath)))
        : new Promise<string>((r) => proxy.server.listen(0, '127.0.0.1', () => r(`127.0.0.1:${(proxy.server.address() as { port: number }).port}`)));
      const where = await listening;
      try {
        await Promise.race([follower.ready, new Promise((_, rej) => setTimeout(() => rej(new Error('no answer within 5 s')), 5000))]);
      } catch (e) {
        follower.close();
        await proxy.close();
        rmSync(runDir, { recursive: true, force: true });
        return fail(`cannot follow the task's events at ${state.url}: ${(e as Error).message}`);
      }

      const innerPort = 20000 + Math.floor(Math.random() * 40000);
      const proxyUrl = o.sandbox ? `http://127.0.0.1:${innerPort}` : `http://${where}`;
      const caFile = o.sandbox ? INSIDE_CA : join(runDir, 'ca.pem');
      const env: Record<string, string> = {};
      const custodyValues = new Set(session.custody.map((c) => c.value));
      for (const [k, v] of Object.entries(process.env)) {
        if (v === undefined) continue;
        if (/^(STINT_ADMIN_TOKEN|STINT_APPROVAL_ADMIN_TOKEN|STINT_MASTER_KEY|STINT_AGENT_KEY|STINT_EGRESS_.*|NO_PROXY|no_proxy)$/.test(k)) continue;
        if ([...custodyValues].some((c) => v.includes(c))) continue;
        env[k] = v;
      }
      Object.assign(env, vars, {
        HTTP_PROXY: proxyUrl,
        HTTPS_PROXY: proxyUrl,
        ALL_PROXY: proxyUrl,
        http_proxy: proxyUrl,
        https_proxy: proxyUrl,
        all_proxy: proxyUrl,
        SSL_CERT_FILE: caFile,
        NODE_EXTRA_CA_CERTS: caFile,
        REQUESTS_CA_BUNDLE: caFile,
        CURL_CA_BUNDLE: caFile,
        GIT_SSL_CAINFO: caFile,
        STINT_RUN_TASK: state.task_id,
        // `stint guard` inside asks this supervisor (over the same socket) instead of a task file.
        STINT_RUN_GUARD: `${proxyUrl}${GUARD_PATH}`,
        STINT_GUARD_WARM: '0',
      });
      if (!o.sandbox) console.error('stint run: --no-sandbox: the boundary is cooperative (proxy variables only; a program that ignores them reaches the network directly)');

      // The warm guard's directories (src/guard/warm.ts) are hidden too, created first if need be:
      // a command inside must not plant a socket that hooks outside would ask, nor ask a warm guard
      // outside to decide with a task file hidden from it. (/run, where XDG_RUNTIME_DIR usually
      // is, is an empty tmpfs inside.) Hooks inside ask the supervisor, not a warm guard.
      const warm = warmDirCandidates(process.env);
      for (const d of warm) {
        try {
          mkdirSync(d, { recursive: true, mode: 0o700 });
        } catch {
          // hidden below if it exists at all
        }
      }
      const hide = [stintHome(), ...warm, ...(state.agent_key ? [state.agent_key] : []), ...(process.env.STINT_AGENT_KEY ? [resolve(process.env.STINT_AGENT_KEY)] : []), dirname(resolve(process.env.STINT_DB || './data/stint.db'))];
      const [cmd, ...args] = o.sandbox ? ['bwrap', ...bwrapArgv({ runDir, hide, port: innerPort, cwd: process.cwd(), argv })] : argv;
      child = spawn(cmd!, args, { stdio: 'inherit', env, detached: true });
      const watchdog = child.pid ? startWatchdog(child.pid, runDir) : undefined;
      // A fault in the supervisor itself: the command is ended and the proxy closed (fail closed),
      // and the run says why, rather than leaving a sandbox whose proxy no longer decides.
      const crash = (e: unknown) => {
        failClosed(e, { halt: proxy.halt, close: proxy.close, childPid: child?.pid, runDir, watchdog, print: (l) => console.error(l) });
        setTimeout(() => process.exit(2), 50);
      };
      process.on('uncaughtException', crash);
      process.on('unhandledRejection', crash);
      const forward = (sig: NodeJS.Signals) => () => child?.pid && process.kill(-child.pid, sig);
      process.on('SIGINT', forward('SIGINT'));
      process.on('SIGTERM', forward('SIGTERM'));
      const code: number = await new Promise((r) => {
        child!.on('exit', (c, sig) => r(c ?? (sig ? 128 + 1 : 1)));
        child!.on('error', (e) => {
          console.error(`stint run: cannot start ${cmd}: ${e.message}`);
          r(127);
        });
      });
      follower.close();
      await proxy.close().catch(() => undefined);
      rmSync(runDir, { recursive: true, force: true });
      watchdog?.done();
      if (stop) {
        console.error(`stint run: stopped (${stop.rule}): ${stop.reason}`.replace(/[\r\n]+/g, ' '));
        process.exit(3);
      }
      if (opened && o.complete) await completeTask(state);
      process.exit(code);
    });
}
