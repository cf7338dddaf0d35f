// The current task on this machine, kept under STINT_HOME (default ~/.stint) by `stint task
// open`: the broker, the task token and the task's DPoP key. Files are mode 0600.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';

export interface TaskState {
  version: 1;
  /** Where to reach the broker. */
  url: string;
  /** The broker's issuer (DPoP `htu` base). */
  issuer: string;
  client_id: string;
  task_id: string;
  template: string;
  environment: string;
  purpose: string;
  task_token: string;
  /** Seconds since the epoch. */
  expires_at: number;
  dpop: { alg: 'EdDSA' | 'ES256'; private_jwk: JWK; public_jwk: JWK; jkt: string };
  /** Capability tokens `stint token` got for this task: the task's own too. */
  tokens?: string[];
  /** The agent key file the task was opened with (a path; the key stays in its file). */
  agent_key?: string;
}

export const stintHome = (env: Record<string, string | undefined> = process.env) => env.STINT_HOME ?? join(env.HOME || homedir(), '.stint');
export const currentFile = (home: string) => join(home, 'current.json');

export function loadState(home = stintHome()): TaskState | undefined {
  let text: string;
  try {
    text = readFileSync(currentFile(home), 'utf8');
  } catch {
    return undefined;
  }
  const s = JSON.parse(text) as TaskState;
  if (s.version !== 1 || !s.task_token || !s.dpop?.private_jwk) throw new Error(`${currentFile(home)} is not a stint task file`);
  return s;
}

export function saveState(s: TaskState, home = stintHome()) {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = currentFile(home);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function clearState(home = stintHome()) {
  rmSync(currentFile(home), { force: true });
}
