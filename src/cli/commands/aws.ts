import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { StintAgent } from '../../sdk/agent.js';
import { agentBrokerUrl, brokerCall, currentTask, loadKey, requireState } from '../agent.js';
import { fail } from '../shared.js';

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
 * a task's (the current task on this machine, or one named by its files), for one capability,
 * fetched by token exchange with the task's own keys.
 */
async function credentialProcess(o: Opts) {
  const need = (v: string | undefined, flag: string, envName: string) => v ?? process.env[envName] ?? fail(`--${flag} (or ${envName}) is required`);
  const capability = need(o.capability, 'capability', 'STINT_CAPABILITY');
  const params = (subjectToken: string) => ({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:stint:token-type:aws-sts',
    scope: capability,
  });
  const dpopFile = o.dpopKey ?? process.env.STINT_DPOP_KEY;
  const tokenFile = o.taskTokenFile ?? process.env.STINT_TASK_TOKEN_FILE;
  let body: Record<string, any>;
  if (!dpopFile && !tokenFile) {
    // The current task on this machine (`stint task open`), with the agent key it was opened with.
    const s = requireState();
    const keyFile = o.key ?? s.agent_key ?? need(undefined, 'key', 'STINT_AGENT_KEY');
    const task = await currentTask(s, await loadKey(keyFile));
    body = await brokerCall(s.url, () => task.agent.token(params(s.task_token), task.dpopKey));
  } else {
    const clientId = need(o.clientId, 'client-id', 'STINT_CLIENT_ID');
    const keyFile = need(o.key, 'key', 'STINT_AGENT_KEY');
    const url = agentBrokerUrl(o);
    const agent = new StintAgent({ url, issuer: o.issuer, clientId, key: await loadKey(keyFile) });
    const dpop = await loadKey(need(dpopFile, 'dpop-key', 'STINT_DPOP_KEY'), 'the DPoP key');
    const subject = readFileSync(need(tokenFile, 'task-token-file', 'STINT_TASK_TOKEN_FILE'), 'utf8').trim();
    body = await brokerCall(url, () => agent.token(params(subject), dpop));
  }
  const a = body.aws;
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
    .option('--dpop-key <file>', "the task's DPoP key file ($STINT_DPOP_KEY; default: the current task's)")
    .option('--task-token-file <file>', "a file holding the task token ($STINT_TASK_TOKEN_FILE; default: the current task's)")
    .option('--url <url>', 'the broker (default: $STINT_URL or http://127.0.0.1:8787)')
    .option('--issuer <issuer>', "the broker's issuer (default: read from the broker's metadata)")
    .action(credentialProcess);
}
