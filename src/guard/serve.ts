// The warm guard's process (`node dist/hook/stint-guard.mjs --serve`, started by the hook itself
// when none answers; see warm.ts). It answers each request with runGuard, as the hook's own
// process would, and keeps nothing between requests but loaded code and compiled parsers.
// It leaves when idle (STINT_GUARD_WARM_IDLE_MS, default 15 min), after a number of requests,
// when its heap grows large, or when its socket is removed or taken over: the next call then
// decides in its own process and starts a fresh one.
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ADAPTERS } from './adapters/index.js';
import type { Harness } from './event.js';
import { cutOff } from './bounded.js';
import { runGuard } from './run.js';
import { loadShellParser, shellParser } from './shell.js';
import { MAX_REQUEST, privateDir, socketPath, warmDir, type WarmAnswer, type WarmRequest } from './warm.js';

const IDLE_MS = Math.max(1000, Number(process.env.STINT_GUARD_WARM_IDLE_MS) || 15 * 60_000);
const MAX_REQUESTS = 20_000;
const MAX_HEAP = 512 * 1024 * 1024;
/** How often the socket file is checked (it must still be ours). */
const CHECK_MS = 5000;
/** A connection that has not sent its whole request by then is dropped (no request takes longer than its 60 s cap). */
const CONNECTION_MS = 65_000;

function valid(r: unknown): r is WarmRequest {
  const q = r as WarmRequest;
  return (
    !!q && q.v === 1 && typeof q.harness === 'string' && q.harness in ADAPTERS && typeof q.input === 'string' && typeof q.cwd === 'string' &&
    typeof q.budgetMs === 'number' && Number.isFinite(q.budgetMs) && !!q.env && typeof q.env === 'object' && Object.values(q.env).every((v) => typeof v === 'string')
  );
}

async function answer(text: string): Promise<WarmAnswer> {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    req = undefined;
  }
  // A request this process cannot read gets no decision: the hook then decides itself.
  if (!valid(req)) throw new Error('unreadable request');
  const budget = Math.min(Math.max(0, req.budgetMs), 60_000);
  const { rendered } = await runGuard({
    harness: req.harness as Harness,
    input: req.input,
    env: req.env,
    cwd: req.cwd,
    deadline: performance.now() + budget - 60,
    brokerTimeoutMs: 5000,
  });
  return { stdout: rendered.stdout, stderr: rendered.stderr, code: rendered.exitCode };
}

function listenOn(server: Server, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const tryListen = (retry: boolean) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EADDRINUSE' || !retry) return resolve(false);
        // Someone's socket file: if a guard answers there, it is the warm guard already.
        const probe = connect(path);
        probe.on('connect', () => {
          probe.destroy();
          resolve(false);
        });
        probe.on('error', () => {
          try {
            unlinkSync(path);
          } catch {
            // gone already
          }
          tryListen(false);
        });
      });
      server.listen(path, () => resolve(true));
    };
    tryListen(true);
  });
}

export async function serveWarm(): Promise<void> {
  const dir = warmDir(process.env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const real = privateDir(dir);
  if (!real) {
    process.stderr.write(`stint guard: ${dir} is not a private directory of this user; no warm guard\n`);
    process.exit(1);
  }
  const path = socketPath(real);
  let served = 0;
  let last = Date.now();
  let busy = 0;
  // half-open: a request ends with the end of its stream, and the answer goes back after it
  let leave = () => {};
  const server = createServer({ allowHalfOpen: true }, (sock: Socket) => {
    busy++;
    last = Date.now();
    let text = '';
    sock.setTimeout(CONNECTION_MS, () => sock.destroy());
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      text += d;
      if (text.length > MAX_REQUEST) sock.destroy();
    });
    sock.on('end', () => {
      answer(text)
        .then((a) => sock.end(JSON.stringify(a)))
        .catch(() => sock.destroy())
        .finally(() => {
          busy--;
          served++;
          last = Date.now();
          // analysis cut off by a deadline may have left state behind (a parser mid-parse): a
          // fresh process answers the next calls
          if (cutOff.count > 0 || shellParser.spoiled) leave();
        });
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      if (!sock.readableEnded) busy = Math.max(0, busy - 1);
    });
  });
  if (!(await listenOn(server, path))) process.exit(0);
  // compile the shell grammar now, not on the first call that needs it
  loadShellParser().catch(() => {});
  const ino = statSync(path).ino;
  let left = false;
  leave = () => {
    if (left) return;
    left = true;
    server.close();
    // the socket file goes only if it is still ours
    try {
      if (statSync(path).ino === ino) unlinkSync(path);
    } catch {
      // gone already
    }
    setTimeout(() => process.exit(0), busy ? 3000 : 0).unref();
  };
  const check = setInterval(() => {
    let ours = false;
    try {
      ours = statSync(path).ino === ino;
    } catch {
      ours = false;
    }
    const tired = served >= MAX_REQUESTS || process.memoryUsage().heapUsed > MAX_HEAP;
    if (!ours || tired || (busy === 0 && Date.now() - last > IDLE_MS)) {
      clearInterval(check);
      leave();
    }
  }, Math.min(CHECK_MS, IDLE_MS));
  process.on('SIGTERM', leave);
  process.on('SIGINT', leave);
}
