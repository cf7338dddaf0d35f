import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApproverKeyFile } from '../../client/approver.js';
import { fail, oneLine } from '../shared.js';

interface Opts {
  capability?: string;
  clientId?: string;
  key?: string;
  dpopKey?: string;
  taskTokenFile?: string;
  url?: string;
  issuer?: string;
}

/**
 * AWS's credential_process contract: print {Version:1, AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration} on stdout, or fail with a message on stderr. The credentials are
 * a task's, for one capability, fetched by token exchange with the task's own keys.
 */
async function credentialProcess(o: Opts) {
  const need = (v: string | undefined, flag: string, envName: string) => v ?? process.env[envName] ?? fail(`--${flag} (or ${envName}) is required`);
  const capability = need(o.capability, 'capability', 'STINT_CAPABILITY');
  const clientId = need(o.clientId, 'client-id', 'STINT_CLIENT_ID');
  const keyFile = need(o.key, 'key', 'STINT_AGENT_KEY');
  const dpopFile = need(o.dpopKey, 'dpop-key', 'STINT_DPOP_KEY');
  const tokenFile = need(o.taskTokenFile, 'task-token-file', 'STINT_TASK_TOKEN_FILE');
  const url = o.url ?? process.env.STINT_URL ?? 'http://127.0.0.1:8787';
  const { AgentClient } = await import('../../client/agent.js');
  const { calculateJwkThumbprint, importJWK } = await import('jose');
  const load = async (file: string) => {
    let k: ApproverKeyFile;
    try {
      k = JSON.parse(readFileSync(file, 'utf8')) as ApproverKeyFile;
    } catch (e) {
      return fail(`cannot read ${file}: ${(e as Error).message}`);
    }
    return { alg: k.alg, privateKey: (await importJWK(k.private_jwk, k.alg)) as CryptoKey, publicJwk: k.public_jwk, jkt: await calculateJwkThumbprint(k.public_jwk) };
  };
  const agent = new AgentClient({ issuer: o.issuer ?? process.env.STINT_ISSUER ?? url, brokerUrl: url, clientId, key: await load(keyFile), dpopKey: await load(dpopFile) });
  const res = await agent.token({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: readFileSync(tokenFile, 'utf8').trim(),
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:stint:token-type:aws-sts',
    scope: capability,
  });
  if (res.status !== 200) fail(`${res.status} ${res.body.error}: ${oneLine(String(res.body.error_description ?? ''))}`);
  const a = res.body.aws;
  console.log(JSON.stringify({ Version: 1, AccessKeyId: a.access_key_id, SecretAccessKey: a.secret_access_key, SessionToken: a.session_token, Expiration: a.expiration }));
}

/** `stint aws credential-process`: a task's AWS credentials for ~/.aws/config's credential_process. */
export function register(program: Command): void {
  const aws = program.command('aws').description('AWS integration');
  aws
    .command('credential-process')
    .description("print a task's AWS credentials in credential_process JSON (point ~/.aws/config's credential_process at it)")
    .option('--capability <name>', 'the capability to exchange for ($STINT_CAPABILITY)')
    .option('--client-id <id>', "the agent's client_id ($STINT_CLIENT_ID)")
    .option('--key <file>', "the agent's key file ($STINT_AGENT_KEY)")
    .option('--dpop-key <file>', "the task's DPoP key file ($STINT_DPOP_KEY)")
    .option('--task-token-file <file>', "a file holding the task token ($STINT_TASK_TOKEN_FILE)")
    .option('--url <url>', 'the broker (default: $STINT_URL or http://127.0.0.1:8787)')
    .option('--issuer <issuer>', "the broker's issuer, if not its URL ($STINT_ISSUER)")
    .action(credentialProcess);
}
