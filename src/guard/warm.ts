// The warm guard: one long-lived process per user and build of the hook (serve.ts) that answers
// hook events over a Unix socket, so that a tool call pays for Node's start and this small
// client, not for loading the analysis, the parsers' WebAssembly and the DPoP key each time.
//
// It is an accelerator, never a dependency: when no warm guard answers, the hook decides in its
// own process (and starts one for the next call). It holds nothing between calls: every request
// carries the hook's input, environment and working directory, and the task is read from
// STINT_HOME per call, exactly as the hook's own process would.
//
// The socket sits in a directory of this user's, mode 0700 (`$XDG_RUNTIME_DIR` or the temporary
// directory, then `stint-guard-<uid>/`). A directory that is not ours, is a link, or is open to
// others is not used: another user could otherwise answer for the guard.
import { lstatSync, realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Replaced by scripts/build-guard.ts with a hash of the built hook: a client only talks to the same build. */
export const BUILD = '__STINT_GUARD_BUILD__';

import { MAX_INPUT } from './limits.js';

/** The most a request may carry: the hook event (MAX_INPUT) and the environment, JSON-escaped. */
export const MAX_ENV = 256 * 1024;
export const MAX_REQUEST = MAX_INPUT * 2 + MAX_ENV * 2;

export interface WarmRequest {
  v: 1;
  harness: string;
  input: string;
  env: Record<string, string>;
  cwd: string;
  /** What is left of the hook's deadline when the request is sent, ms. */
  budgetMs: number;
}

export interface WarmAnswer {
  stdout: string;
  stderr: string;
  code: number;
}

// (an unstamped build, the hook run from source, has no id of its own to keep builds apart)
export const warmEnabled = (env: Record<string, string | undefined>) =>
  env.STINT_GUARD_WARM !== '0' && process.platform !== 'win32' && typeof process.getuid === 'function' && !BUILD.startsWith('__');

export function warmDir(env: Record<string, string | undefined>): string {
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `stint-guard-${process.getuid?.() ?? 'user'}`);
}

/**
 * `dir` with its parent's links resolved (macOS's /var is one), if it is a real directory of this
 * user's that nobody else can enter, under ancestors that nobody else can rename it out of (each
 * the user's or root's, and not writable by others unless sticky, as /tmp is); else undefined.
 * The socket is reached by the resolved path, so no link on the way can change after the check.
 */
export function privateDir(dir: string): string | undefined {
  const uid = process.getuid!();
  try {
    const real = join(realpathSync(dirname(dir)), basename(dir));
    const s = lstatSync(real);
    if (!s.isDirectory() || s.isSymbolicLink() || s.uid !== uid || (s.mode & 0o077) !== 0) return undefined;
    for (let p = dirname(real), prev = real; p !== prev; prev = p, p = dirname(p)) {
      const a = lstatSync(p);
      if ((a.uid !== uid && a.uid !== 0) || ((a.mode & 0o022) !== 0 && (a.mode & 0o1000) === 0)) return undefined;
    }
    return real;
  } catch {
    return undefined;
  }
}

/** Every directory a warm guard of this user's may use, whatever the environment of the hook that started it. */
export function warmDirCandidates(env: Record<string, string | undefined>): string[] {
  const name = `stint-guard-${process.getuid?.() ?? 'user'}`;
  return [...new Set([warmDir(env), join(tmpdir(), name), join('/tmp', name)])];
}

export const socketPath = (dir: string) => join(dir, `${BUILD.slice(0, 16)}.sock`);

/**
 * Sends one request. `unavailable`: nobody listens, or the connection closed before an answer
 * (the caller decides in its own process); `late`: no answer by `timeoutMs` (the caller blocks).
 */
export function askWarm(path: string, req: WarmRequest, timeoutMs: number): Promise<WarmAnswer | 'unavailable' | 'late'> {
  return new Promise((resolve) => {
    const sock = connect(path);
    let text = '';
    let settled = false;
    const done = (r: WarmAnswer | 'unavailable' | 'late') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('late'), Math.max(1, timeoutMs));
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.end(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => {
      text += d;
      if (text.length > MAX_REQUEST) done('unavailable');
    });
    sock.on('end', () => {
      try {
        const a = JSON.parse(text) as WarmAnswer;
        if (typeof a.stdout === 'string' && typeof a.stderr === 'string' && (a.code === 0 || a.code === 2)) return done(a);
      } catch {
        // fall through: an answer cut short is no answer
      }
      done('unavailable');
    });
    sock.on('error', () => done('unavailable'));
  });
}

/** The environment a request carries: strings only, capped (an oversize environment is not sent, the hook decides itself). */
export function requestEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let size = 0;
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') continue;
    size += k.length + v.length;
    if (size > MAX_ENV) return undefined;
    out[k] = v;
  }
  return out;
}
