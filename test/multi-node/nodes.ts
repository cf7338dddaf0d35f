import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { OperatorClient } from '../../src/client/operator.js';
import { AgentClient } from '../../src/client/agent.js';
import { freePort, ROOT } from '../../src/runtime/node/launch.js';

export const ISSUER = 'https://stint.multi-node.test';
export const ADMIN = `multi-node-admin-${crypto.randomUUID()}`;
const MASTER_KEY = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');

export interface Node {
  name: string;
  url: string;
  child: ChildProcess;
  operator: OperatorClient;
  /** The same agent (its key, its DPoP key), talking to this node. */
  as(agent: AgentClient): Promise<AgentClient>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/**
 * A broker process (`npm start`'s broker child) on `databaseUrl`, with the settings every node
 * of one deployment shares: issuer, admin token, master key, policy. Resolves once it listens.
 */
export async function startNode(name: string, databaseUrl: string, env: Record<string, string> = {}): Promise<Node> {
  const port = await freePort();
  const child = fork(join(ROOT, 'src/runtime/node/broker.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: {
      PATH: process.env.PATH!,
      HOME: process.env.HOME ?? '/tmp',
      STINT_DATABASE_URL: databaseUrl,
      STINT_PORT: String(port),
      STINT_ISSUER: ISSUER,
      STINT_ADMIN_TOKEN: ADMIN,
      STINT_MASTER_KEY: MASTER_KEY,
      STINT_POLICIES: join(ROOT, 'policies'),
      STINT_RATE_LIMIT: 'off',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { url?: string }) => m.url && resolve(m.url));
    child.once('exit', (code) => reject(new Error(`node ${name} exited (${code}) before listening: ${stderr}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name,
    url,
    child,
    operator: new OperatorClient(ISSUER, ADMIN, { brokerUrl: url }),
    as: async (a) => new AgentClient({ issuer: ISSUER, brokerUrl: url, clientId: a.clientId, key: a.key, dpopKey: await a.dpopKey() }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A /v1/events stream, its events collected as they arrive; resolves once `stream.open` came. */
export async function openStream(url: string, authorization: string) {
  const ctl = new AbortController();
  const res = await fetch(`${url}/v1/events`, { headers: { Authorization: authorization }, signal: ctl.signal });
  if (res.status !== 200) throw new Error(`stream: ${res.status}`);
  const events: { id: number; type: string; task_id: string | null }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let opened!: () => void;
  const open = new Promise<void>((r) => (opened = r));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'stream.open') opened();
          else if (event && event !== 'heartbeat' && data) events.push(JSON.parse(data));
        }
      }
    } catch {
      // aborted
    }
  })();
  await open;
  return { events, close: () => ctl.abort() };
}
