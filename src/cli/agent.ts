// What the agent-side commands (task, token, aws credential-process) share: the agent's key
// file, the current task, and one client for all of them, `@stint/agent`'s (the issuer is
// discovered from the broker's metadata, so any address of the broker works).
import { readFileSync } from 'node:fs';
import { exportJWK, type JWK } from 'jose';
import { importAgentKey, StintAgent, StintAgentError, StintTask, type AgentKey, type Alg } from '../sdk/agent.js';
import { loadState, stintHome, type TaskState } from '../guard/state.js';
import { DEFAULT_BROKER, fail, oneLine } from './shared.js';

export const agentBrokerUrl = (o: { url?: string }) => (o.url ?? process.env.STINT_URL ?? DEFAULT_BROKER).replace(/\/+$/, '');

/** A key file as `stint keygen` writes it. */
export function loadKey(file: string, what = 'the agent key'): Promise<AgentKey> {
  let k: { alg: Alg; private_jwk: JWK; public_jwk?: JWK };
  try {
    k = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  if (!k?.private_jwk || (k.alg !== 'EdDSA' && k.alg !== 'ES256')) return fail(`${file} is not a key file written by "stint keygen"`);
  return importAgentKey(k);
}

export const exportKey = async (k: AgentKey) => ({ alg: k.alg, private_jwk: await exportJWK(k.privateKey), public_jwk: k.publicJwk, jkt: k.jkt });

export function requireState(): TaskState {
  let s: TaskState | undefined;
  try {
    s = loadState();
  } catch (e) {
    return fail((e as Error).message);
  }
  return s ?? fail(`no current task in ${stintHome()} (run "stint task open")`);
}

/** The current task as an `@stint/agent` task (`key`: the agent's key, when the call needs it). */
export async function currentTask(s: TaskState, key?: AgentKey): Promise<StintTask> {
  const dpop = await importAgentKey(s.dpop);
  const agent = new StintAgent({ url: s.url, issuer: s.issuer, clientId: s.client_id, key: key ?? dpop });
  return new StintTask(agent, dpop, s.task_id, s.task_token, s.expires_at * 1000);
}

/** Runs a broker call; a refusal or an unreachable broker becomes a one-line failure (exit 2). */
export async function brokerCall<T>(url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof StintAgentError) return fail(`${e.status} ${e.code}: ${oneLine(String(e.body.error_description ?? e.body.detail ?? e.message))}`);
    const cause = (e as Error).cause as Error | undefined;
    return fail(`the broker at ${url} cannot be reached: ${cause?.message ?? (e as Error).message}`);
  }
}
