// The guard's call to the broker's AuthZEN endpoint: the task token with a DPoP proof signed by
// node:crypto (no JOSE library to load: this runs before every tool call).
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { ToolCallDecision } from '../core/decide.js';
import type { ToolCallFacts } from '../core/tool-call.js';
import type { TaskState } from './state.js';

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function dpopProof(state: TaskState, htm: string, htu: string, accessToken: string, nowSec = Math.floor(Date.now() / 1000)): string {
  const { alg, private_jwk, public_jwk } = state.dpop;
  const { d: _d, ...pub } = public_jwk as Record<string, unknown>;
  const header = b64u(JSON.stringify({ alg, typ: 'dpop+jwt', jwk: pub }));
  const payload = b64u(JSON.stringify({ htm, htu, jti: randomUUID(), iat: nowSec, ath: createHash('sha256').update(accessToken).digest('base64url') }));
  const key = createPrivateKey({ key: private_jwk as any, format: 'jwk' });
  const input = Buffer.from(`${header}.${payload}`);
  const sig = alg === 'ES256' ? sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) : sign(null, input, key);
  return `${header}.${payload}.${b64u(sig)}`;
}

export class BrokerUnreachable extends Error {}

/**
 * A minimal fetch over node:http(s): the global fetch loads undici on first use, which costs
 * more than the whole decision on loopback.
 */
type Answer = Pick<Response, 'ok' | 'status' | 'json'>;

async function httpFetch(url: string, init: RequestInit): Promise<Answer> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<Answer>((resolve, reject) => {
    const req = mod.request(u, { method: init.method, headers: init.headers as Record<string, string>, signal: init.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1024 * 1024) req.destroy(new Error('answer larger than 1 MiB'));
        else chunks.push(c);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 500;
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ ok: status >= 200 && status < 300, status, json: async () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', (e) => reject(init.signal?.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e));
    req.end(init.body as string);
  });
}

// Control and bidirectional characters (a newline in a commit message's argv) are escaped, not
// sent: the broker refuses them in tool-call strings.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const escape = (v: unknown): unknown => {
  if (typeof v === 'string') return v.replace(UNSAFE, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
  if (Array.isArray(v)) return v.map(escape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escape(x)]));
  return v;
};
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

/** POST /access/v1/evaluation; throws BrokerUnreachable on a network failure, time-out or non-JSON answer. */
export async function evaluate(state: TaskState, facts: ToolCallFacts, timeoutMs: number, fetchImpl?: typeof fetch, nowSec?: number): Promise<ToolCallDecision> {
  const path = '/access/v1/evaluation';
  const body = {
    subject: { type: 'agent', id: state.client_id, properties: { task_id: state.task_id } },
    action: {
      name: 'tool_call',
      properties: {
        stage: facts.stage,
        tool: escape(facts.tool),
        ...(facts.harness ? { harness: facts.harness } : {}),
        credentials: escape(facts.credentials),
        exposed: escape(facts.exposed),
        calls: escape(facts.calls),
        ...(facts.uncertain ? { uncertain: clip(escape(facts.uncertain) as string, 500) } : {}),
        ...(facts.callHash ? { call_hash: facts.callHash } : {}),
        ...(facts.error ? { error: clip(facts.error, 2000) } : {}),
        ...(facts.summary ? { summary: clip(escape(facts.summary) as string, 500) } : {}),
      },
    },
    resource: { type: 'tool', id: (escape(facts.tool) as string) || 'unknown' },
    context: {},
  };
  let res: Answer;
  try {
    res = await (fetchImpl ?? httpFetch)(`${state.url.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `DPoP ${state.task_token}`,
        DPoP: dpopProof(state, 'POST', `${state.issuer.replace(/\/+$/, '')}${path}`, state.task_token, nowSec),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new BrokerUnreachable(`the broker at ${state.url} cannot be reached (${(e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e as Error).message})`);
  }
  let json: any;
  try {
    json = await res.json();
  } catch {
    throw new BrokerUnreachable(`the broker answered ${res.status} without JSON`);
  }
  if (res.ok && typeof json?.decision === 'boolean') return json as ToolCallDecision;
  const why = json?.error_description ?? json?.detail ?? json?.error ?? `HTTP ${res.status}`;
  const stopped = json?.error === 'task_stopped';
  return { decision: false, context: { reason: `the broker refused the decision request: ${why}`, stopped } };
}

/**
 * Inside `stint run`: the decision comes from the supervisor (STINT_RUN_GUARD, reached over the
 * sandbox's socket), which holds the task token and its key. Throws BrokerUnreachable on failure.
 */
export async function evaluateViaRun(url: string, facts: ToolCallFacts, timeoutMs: number): Promise<ToolCallDecision> {
  let res: Answer;
  try {
    res = await httpFetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(facts), signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new BrokerUnreachable(`the stint run supervisor at ${url} cannot be reached (${(e as Error).message})`);
  }
  let json: any;
  try {
    json = await res.json();
  } catch {
    throw new BrokerUnreachable(`the stint run supervisor answered ${res.status} without JSON`);
  }
  if (res.ok && typeof json?.decision === 'boolean') return json as ToolCallDecision;
  return { decision: false, context: { reason: `the stint run supervisor refused: ${json?.detail ?? `HTTP ${res.status}`}`, rule: json?.rule, stopped: json?.stopped === true } };
}
