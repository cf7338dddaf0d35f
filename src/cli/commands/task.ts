// `stint task open|status|complete`: the person or harness that starts an agent opens its task on
// the agent's machine (the agent never chooses its own scope); the task's DPoP key is made here
// and kept, with the task token, under STINT_HOME (mode 0600).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from 'jose';
import { AgentClient } from '../../client/agent.js';
import { newKey, type KeyPair } from '../../client/proofs.js';
import { clearState, currentFile, loadState, saveState, stintHome, type TaskState } from '../../guard/state.js';

export const fail = (msg: string): never => {
  console.error(`stint: ${msg}`);
  process.exit(1);
};

const brokerUrl = (o: { url?: string }) => (o.url ?? process.env.STINT_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');

export async function loadAgentKey(file: string): Promise<KeyPair> {
  let k: { alg: 'EdDSA' | 'ES256'; private_jwk: JWK; public_jwk: JWK };
  try {
    k = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`cannot read the agent key ${file}: ${(e as Error).message}`);
  }
  return { alg: k.alg, privateKey: (await importJWK(k.private_jwk, k.alg)) as CryptoKey, publicJwk: k.public_jwk, jkt: await calculateJwkThumbprint(k.public_jwk) };
}

export async function taskKey(s: TaskState): Promise<KeyPair> {
  return { alg: s.dpop.alg, privateKey: (await importJWK(s.dpop.private_jwk, s.dpop.alg)) as CryptoKey, publicJwk: s.dpop.public_jwk, jkt: s.dpop.jkt };
}

export function requireState(): TaskState {
  let s: TaskState | undefined;
  try {
    s = loadState();
  } catch (e) {
    return fail((e as Error).message);
  }
  return s ?? fail(`no current task in ${stintHome()} (run "stint task open")`);
}

export function register(program: Command): void {
  const task = program.command('task').description("the agent's current task on this machine");

  task
    .command('open')
    .description('open a task with a fresh DPoP key and make it the current task (prints the task id)')
    .requiredOption('--template <template>', 'policy template')
    .requiredOption('--environment <environment>', 'environment, e.g. staging')
    .requiredOption('--purpose <text>', 'what the task is for, in words')
    .option('--client-id <id>', 'the agent (or STINT_CLIENT_ID)')
    .option('--key <file>', 'the agent key file written by "stint keygen" (or STINT_AGENT_KEY)')
    .option('--url <url>', 'the broker (or STINT_URL)')
    .option('--issuer <url>', "the broker's issuer, if not its URL (or STINT_ISSUER)")
    .option('--json', 'print JSON')
    .action(async (o) => {
      const clientId = o.clientId ?? process.env.STINT_CLIENT_ID ?? fail('--client-id (or STINT_CLIENT_ID) is required');
      const keyFile = o.key ?? process.env.STINT_AGENT_KEY ?? fail('--key (or STINT_AGENT_KEY) is required');
      const url = brokerUrl(o);
      const issuer = (o.issuer ?? process.env.STINT_ISSUER ?? url).replace(/\/+$/, '');
      const dpop = await newKey();
      const agent = new AgentClient({ issuer, brokerUrl: url, clientId, key: await loadAgentKey(keyFile), dpopKey: dpop });
      let res;
      try {
        res = await agent.openTask(o.template, o.environment, o.purpose);
      } catch (e) {
        return fail(`the broker at ${url} cannot be reached: ${(e as Error).message}`);
      }
      if (res.status !== 200) return fail(`${res.status} ${res.body.error}: ${res.body.error_description ?? ''}`);
      const state: TaskState = {
        version: 1,
        url,
        issuer,
        client_id: clientId,
        task_id: res.body.task_id,
        template: o.template,
        environment: o.environment,
        purpose: o.purpose,
        task_token: res.body.access_token,
        expires_at: Math.floor(Date.now() / 1000) + Number(res.body.expires_in),
        dpop: { alg: dpop.alg, private_jwk: await exportJWK(dpop.privateKey), public_jwk: dpop.publicJwk, jkt: dpop.jkt },
        agent_key: resolve(keyFile),
      };
      saveState(state);
      if (o.json) console.log(JSON.stringify({ task_id: state.task_id, environment: state.environment, template: state.template, expires_at: state.expires_at, file: currentFile(stintHome()) }));
      else {
        console.error(`task ${state.task_id} (${state.template} in ${state.environment}) saved to ${currentFile(stintHome())}`);
        console.log(state.task_id);
      }
    });

  task
    .command('status')
    .description('the current task as the broker sees it')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const s = requireState();
      const agent = new AgentClient({ issuer: s.issuer, brokerUrl: s.url, clientId: s.client_id, key: await taskKey(s), dpopKey: await taskKey(s) });
      const req = await agent.request(`${s.issuer}/v1/tasks/${s.task_id}`, s.task_token);
      let res: Response;
      try {
        res = await fetch(`${s.url}/v1/tasks/${s.task_id}`, { headers: req.headers });
      } catch (e) {
        return fail(`the broker at ${s.url} cannot be reached: ${(e as Error).message}`);
      }
      const body = (await res.json()) as any;
      if (!res.ok) return fail(`${res.status} ${body.error ?? body.title ?? ''}: ${body.error_description ?? body.detail ?? ''}`);
      if (o.json) return console.log(JSON.stringify(body, null, 2));
      console.log(`${body.id ?? s.task_id}  ${body.status}${body.status_reason ? ` (${body.status_reason})` : ''}`);
      console.log(`  ${s.template} in ${s.environment}: ${s.purpose}`);
      for (const e of (body.events ?? []).slice(-15)) console.log(`  ${e.at}  ${String(e.kind).padEnd(8)} ${e.detail?.type ?? ''} ${e.detail?.reason ?? e.detail?.summary ?? ''}`.replace(/[^\x20-\x7e\u00a0-\uffff]/g, '?'));
    });

  task
    .command('complete')
    .description('end the current task: its tokens stop working')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const s = requireState();
      const key = await taskKey(s);
      const agent = new AgentClient({ issuer: s.issuer, brokerUrl: s.url, clientId: s.client_id, key, dpopKey: key });
      const res = await agent.completeTask(s.task_id, s.task_token).catch((e) => fail(`the broker at ${s.url} cannot be reached: ${(e as Error).message}`));
      if (res.status !== 200) return fail(`${res.status} ${res.body.error ?? ''}: ${res.body.error_description ?? res.body.detail ?? ''}`);
      clearState();
      console.log(o.json ? JSON.stringify(res.body) : `task ${s.task_id} completed`);
    });
}
