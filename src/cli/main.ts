// `npx stint …`: the approver's command line (and key generation), so a human can decide from a
// terminal without hand-crafting a JWS.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { ApproverClient, type ApproverKeyFile } from '../client/approver.js';
import { printable, renderApproval, reviewBeforeSigning } from './render.js';

const USAGE = `usage:
  stint keygen --out <file> [--alg EdDSA|ES256]
  stint approvers add --name <name> --groups <g1,g2> --key <file> [--url <approval service>]
        (uses STINT_APPROVAL_ADMIN_TOKEN)
  stint approvals list [--status pending] --key <file> [--url <url>] [--json]
  stint approvals show <id> --key <file> [--url <url>] [--json]
  stint approvals approve <id> --key <file> [--url <url>] [--yes]
  stint approvals deny <id> --key <file> [--url <url>] [--yes]
        (shows the request before signing; on a terminal asks to confirm unless --yes)
  stint aws credential-process --capability <name> --client-id <id> --key <agent key file>
        --dpop-key <task key file> --task-token-file <file> [--url <broker>] [--issuer <issuer>]
        (prints AWS credential_process JSON: point ~/.aws/config's credential_process at it)`;

// The task, token and guard commands are commander programs (src/cli/commands/); they run before
// the approver commands' argument parser sees options it does not know.
if (['task', 'token', 'guard'].includes(process.argv[2] ?? '')) {
  const { Command } = await import('commander');
  const program = new Command('stint').exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 1));
  for (const m of [await import('./commands/task.js'), await import('./commands/token.js'), await import('./commands/guard.js')]) m.register(program);
  await program.parseAsync(process.argv);
  process.exit(process.exitCode ?? 0);
}

const { values: o, positionals: args } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    alg: { type: 'string', default: 'EdDSA' },
    key: { type: 'string' },
    url: { type: 'string' },
    name: { type: 'string' },
    groups: { type: 'string' },
    status: { type: 'string', default: 'pending' },
    capability: { type: 'string' },
    'client-id': { type: 'string' },
    'dpop-key': { type: 'string' },
    'task-token-file': { type: 'string' },
    issuer: { type: 'string' },
    json: { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});

const fail = (msg: string): never => {
  console.error(`stint: ${msg}`);
  process.exit(2);
};

const readKey = (): ApproverKeyFile => {
  if (!o.key) fail(`--key <file> is required\n${USAGE}`);
  try {
    return JSON.parse(readFileSync(o.key!, 'utf8')) as ApproverKeyFile;
  } catch (e) {
    return fail(`cannot read ${o.key}: ${(e as Error).message}`);
  }
};
const urlOf = (k: ApproverKeyFile) => o.url ?? k.url ?? process.env.STINT_APPROVAL_URL ?? 'http://127.0.0.1:8788';

const summary = renderApproval;

async function main() {
  const [cmd, sub, id] = args;
  if (o.help || !cmd) return console.log(USAGE);

  if (cmd === 'keygen') {
    if (!o.out) fail('--out <file> is required');
    const alg = o.alg === 'ES256' ? 'ES256' : 'EdDSA';
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const public_jwk = await exportJWK(publicKey);
    public_jwk.kid = await calculateJwkThumbprint(public_jwk);
    const file: ApproverKeyFile = { alg, private_jwk: { ...(await exportJWK(privateKey)), kid: public_jwk.kid }, public_jwk };
    writeFileSync(o.out!, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    console.error(`wrote ${o.out} (private: keep it to yourself). Public key to register:`);
    return console.log(JSON.stringify(public_jwk));
  }

  if (cmd === 'approvers' && sub === 'add') {
    const k = readKey();
    const token = process.env.STINT_APPROVAL_ADMIN_TOKEN ?? fail('set STINT_APPROVAL_ADMIN_TOKEN');
    if (!o.name || !o.groups) fail('--name and --groups are required');
    const url = urlOf(k);
    const res = await fetch(`${url.replace(/\/+$/, '')}/v1/approvers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: o.name, groups: o.groups!.split(',').map((g) => g.trim()).filter(Boolean), jwk: k.public_jwk }),
    });
    const body = (await res.json()) as any;
    if (res.status !== 201) fail(`${res.status} ${body.detail ?? JSON.stringify(body)}`);
    writeFileSync(o.key!, `${JSON.stringify({ ...k, approver_id: body.approver_id, url }, null, 2)}\n`, { mode: 0o600 });
    return console.log(`registered ${o.name} as ${body.approver_id}; saved to ${o.key}`);
  }

  if (cmd === 'aws' && sub === 'credential-process') return awsCredentialProcess();

  if (cmd === 'approvals') {
    const k = readKey();
    if (!k.approver_id) fail(`${o.key} has no approver_id: run "stint approvers add" first`);
    const client = new ApproverClient(urlOf(k), k.approver_id!, k);
    const show = (r: { status: number; body: any }, render: (b: any) => string) => {
      if (r.status >= 400) fail(`${r.status} ${printable(r.body.error ?? '')}: ${printable(r.body.detail ?? '')}`);
      console.log(o.json ? JSON.stringify(r.body, null, 2) : render(r.body));
    };
    if (sub === 'list') return show(await client.list(o.status), (b) => (b.approvals.length ? b.approvals.map(summary).join('\n\n') : `no ${o.status} approvals`));
    if (!id) fail(`an approval id is required\n${USAGE}`);
    if (sub === 'show') return show(await client.show(id!), summary);
    if (sub === 'approve' || sub === 'deny') return show(await client.decide(id!, sub, (a) => reviewBeforeSigning(a, sub, { yes: o.yes })), (b) => `${sub === 'approve' ? 'approved' : 'denied'}: ${summary(b)}`);
  }
  fail(`unknown command\n${USAGE}`);
}

/**
 * AWS's credential_process contract: print {Version:1, AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration} on stdout, or fail with a message on stderr. The credentials are
 * a task's, for one capability, fetched by token exchange with the task's own keys.
 */
async function awsCredentialProcess() {
  const need = (v: string | undefined, flag: string, envName: string) => v ?? process.env[envName] ?? fail(`--${flag} (or ${envName}) is required`);
  const capability = need(o.capability, 'capability', 'STINT_CAPABILITY');
  const clientId = need(o['client-id'], 'client-id', 'STINT_CLIENT_ID');
  const keyFile = need(o.key, 'key', 'STINT_AGENT_KEY');
  const dpopFile = need(o['dpop-key'], 'dpop-key', 'STINT_DPOP_KEY');
  const tokenFile = need(o['task-token-file'], 'task-token-file', 'STINT_TASK_TOKEN_FILE');
  const url = o.url ?? process.env.STINT_URL ?? 'http://127.0.0.1:8787';
  const { importJWK } = await import('jose');
  const { AgentClient } = await import('../client/agent.js');
  const load = async (file: string) => {
    const k = JSON.parse(readFileSync(file, 'utf8')) as ApproverKeyFile;
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
  if (res.status !== 200) fail(`${res.status} ${res.body.error}: ${res.body.error_description}`);
  const a = res.body.aws;
  console.log(JSON.stringify({ Version: 1, AccessKeyId: a.access_key_id, SecretAccessKey: a.secret_access_key, SessionToken: a.session_token, Expiration: a.expiration }));
}

await main();
