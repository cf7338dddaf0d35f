// The supervisor's side of the broker: the egress session (custody values and host lists), the
// task's status, and the task's event stream, all with the task token and a DPoP proof of the
// task's key, which only this process holds (the sandbox never sees either).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { EgressSession } from '../core/custody.js';
import { dpopProof } from '../guard/client.js';
import type { TaskState } from '../guard/state.js';

const base = (s: TaskState) => s.url.replace(/\/+$/, '');
const htu = (s: TaskState, path: string) => `${s.issuer.replace(/\/+$/, '')}${path}`;

async function call(s: TaskState, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base(s)}${path}`, {
    method,
    headers: { Authorization: `DPoP ${s.task_token}`, DPoP: dpopProof(s, method, htu(s, path), s.task_token), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: 'invalid_response', error_description: text.slice(0, 200) };
  }
  return { status: res.status, json };
}

export async function egressSession(s: TaskState, names: string[]): Promise<EgressSession> {
  const r = await call(s, 'POST', '/v1/egress/session', { names });
  if (r.status !== 200) throw new Error(`${r.status} ${r.json.error ?? ''}: ${r.json.error_description ?? r.json.detail ?? ''}`);
  return r.json as EgressSession;
}

export async function taskStatus(s: TaskState): Promise<{ status: string; reason?: string }> {
  const r = await call(s, 'GET', `/v1/tasks/${s.task_id}`);
  if (r.status === 200) return { status: r.json.status, reason: r.json.status_reason };
  if (r.json.error === 'task_stopped') return { status: 'stopped', reason: r.json.error_description };
  return { status: 'unknown', reason: `${r.status} ${r.json.error ?? ''}: ${r.json.error_description ?? ''}` };
}

export async function completeTask(s: TaskState): Promise<void> {
  await call(s, 'POST', `/v1/tasks/${s.task_id}/complete`).catch(() => undefined);
}

export interface Liveness {
  live: boolean;
  /** Why not: `broker_unreachable` (stream closed, erring or silent past the deadline) or `task_<status>`. */
  rule?: string;
  reason?: string;
}

export interface Follower {
  /** Live: the stream is open (and current), the task active, and the broker heard within the deadline. */
  liveness(): Liveness;
  /** Resolves once the stream first opens (or rejects when it cannot). */
  ready: Promise<void>;
  close(): void;
}

/** Heartbeats asked of the broker (`?heartbeat_ms=`), and the silence after which it counts as gone. */
export const FOLLOW_HEARTBEAT_MS = 1000;
export const FOLLOW_DEADLINE_MS = 3000;

/**
 * Follows the task's event stream. An event of the task, or one naming no task (a lock, a wider
 * revocation), makes it ask the task's status; anything but `active` ends it (`onEnd`). A stream
 * that closes or errs, or is silent past the deadline, makes the task count as not live
 * (`broker_unreachable`) until the stream is back: the proxy then refuses (fail closed).
 *
 * The deadline: a killed broker's connection usually closes at once, but a hung broker, a
 * paused VM or a lost route say nothing. So the follower asks for a heartbeat every second and
 * counts the broker gone after `deadlineMs` (3 s) of silence, well inside the contract's 5 s.
 * A broker that does not honour the ask announces its own interval in `stream.open`; the
 * deadline is then stretched to 1.5 intervals (an older broker's 5 s heartbeat would otherwise
 * make a healthy stream flap). `now` is injectable so tests freeze the clock.
 */
export function followTask(
  s: TaskState,
  o: { onEnd: (status: string, reason: string) => void; deadlineMs?: number; heartbeatMs?: number; retryMs?: number; now?: () => number },
): Follower {
  const now = o.now ?? Date.now;
  const asked = o.heartbeatMs ?? FOLLOW_HEARTBEAT_MS;
  let deadline = o.deadlineMs ?? FOLLOW_DEADLINE_MS;
  let open = false;
  let ended: Liveness | undefined;
  let down = 'the event stream has not opened yet';
  let lastByte = now();
  let closed = false;
  let req: ReturnType<typeof httpRequest> | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  let first = true;
  const ready = new Promise<void>((a, b) => ((resolveReady = a), (rejectReady = b)));

  const check = async () => {
    const st = await taskStatus(s).catch((e) => ({ status: 'unknown', reason: (e as Error).message }));
    if (st.status !== 'active' && st.status !== 'unknown' && !ended) {
      ended = { live: false, rule: `task_${st.status}`, reason: `task ${s.task_id} is ${st.status}${st.reason ? ` (${st.reason})` : ''}` };
      o.onEnd(st.status, st.reason ?? st.status);
    }
  };

  const connect = () => {
    if (closed) return;
    const path = '/v1/events';
    const u = new URL(`${base(s)}${path}?heartbeat_ms=${asked}`);
    const mod = u.protocol === 'https:' ? httpsRequest : httpRequest;
    lastByte = now();
    req = mod(u, { method: 'GET', headers: { Accept: 'text/event-stream', Authorization: `DPoP ${s.task_token}`, DPoP: dpopProof(s, 'GET', htu(s, path), s.task_token) } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          down = `the broker refused the event stream (${res.statusCode}): ${text.slice(0, 200)}`;
          if (first) {
            first = false;
            rejectReady(new Error(down));
          }
          if (/task_stopped|invalid_token/.test(text)) void check();
          retry();
        });
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        lastByte = now();
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: ?(.*)$/m.exec(frame)?.[1];
          if (event === 'stream.open') {
            open = true;
            const every = Number(/"heartbeat_ms":(\d+)/.exec(frame)?.[1] ?? 5000);
            deadline = Math.max(o.deadlineMs ?? FOLLOW_DEADLINE_MS, every * 1.5);
            // Current from here: what happened while we were away is in the task's status.
            void check().then(() => {
              if (first) {
                first = false;
                resolveReady();
              }
            });
          } else if (event && event !== 'heartbeat') void check();
        }
      });
      const lost = () => {
        if (req !== thisReq) return;
        open = false;
        down = 'the broker is unreachable (its event stream closed)';
        retry();
      };
      res.on('end', lost);
      res.on('error', lost);
      res.on('close', lost);
    });
    const thisReq = req;
    req.on('error', (e) => {
      if (req !== thisReq) return;
      open = false;
      down = `the broker is unreachable (${e.message})`;
      if (first) {
        first = false;
        rejectReady(new Error(down));
      }
      retry();
    });
    req.end();
  };
  let timer: NodeJS.Timeout | undefined;
  const retry = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect();
    }, o.retryMs ?? 500);
  };
  const silent = () => open && now() - lastByte > deadline;
  /**
   * A silent stream, or a dial the broker never answers (a hung process accepts and says
   * nothing), is dropped and dialled again, so the stream is back as soon as the broker is.
   */
  const watchdog = setInterval(() => {
    if (!req || now() - lastByte <= deadline) return;
    down = open ? `the broker has been silent for more than ${deadline} ms` : `the broker did not answer the event stream within ${deadline} ms`;
    open = false;
    const stale = req;
    req = undefined;
    stale.destroy();
    retry();
  }, Math.max(100, Math.min(1000, asked)));
  watchdog.unref();
  connect();
  return {
    ready,
    liveness() {
      if (ended) return ended;
      if (!open) return { live: false, rule: 'broker_unreachable', reason: down };
      if (silent()) return { live: false, rule: 'broker_unreachable', reason: `the broker has been silent for more than ${deadline} ms` };
      return { live: true };
    },
    close() {
      closed = true;
      clearInterval(watchdog);
      if (timer) clearTimeout(timer);
      req?.destroy();
    },
  };
}
