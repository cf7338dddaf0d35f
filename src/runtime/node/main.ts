// `npm start`: validates settings and policy, then runs the broker and the approval service
// as two processes and prints the ready line once both listen.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PolicyError } from '../../policy/load.js';
import { loadPolicyDir } from '../../policy/node.js';
import { ConfigError, loadConfig, SECRET_VARS } from './config.js';

function fatal(message: string): never {
  console.error(`stint: ${message}`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
  loadPolicyDir(config.policiesDir);
} catch (e) {
  if (e instanceof PolicyError) fatal(`invalid policy: ${e.message}`);
  if (e instanceof ConfigError) fatal(e.message);
  throw e;
}
for (const n of config.notices) console.log(`stint: ${n}`);

// Each child gets only the secrets it needs: the approval service never sees the broker's
// admin token or master key, and the broker never sees the approval admin token or the key
// that seals the approval authority's signing key.
const base = { ...process.env };
for (const v of [...SECRET_VARS, 'STINT_MASTER_KEY_PREVIOUS', 'STINT_APPROVAL_MASTER_KEY_PREVIOUS']) delete base[v];
const prev = (v: string) => (process.env[v] ? { [v]: process.env[v] } : {});
const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');
const children: ChildProcess[] = [];
// Compiled (dist/, `npm start`) the children are plain JavaScript; from source (tests,
// `npm run start:dev`) they run through tsx like this process.
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? '.ts' : '.js';
const start = (file: string, env: NodeJS.ProcessEnv) =>
  new Promise<string>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(`${file}${ext}`, import.meta.url)), [], { env, execArgv: fromSource ? ['--import', 'tsx'] : [], stdio: 'inherit' });
    children.push(child);
    child.on('message', (m: { url?: string }) => m.url && resolve(m.url));
    child.on('exit', (code, signal) => {
      reject(new Error(`${file} exited (${signal ?? code})`));
      if (!shuttingDown) shutdown(1, `${file.replace('./', '')} process exited (${signal ?? code})`);
    });
  });

let shuttingDown = false;
function shutdown(code: number, why?: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (why) console.error(`stint: ${why}; stopping`);
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 2000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

try {
  await Promise.all([
    start('./broker', { ...base, STINT_ADMIN_TOKEN: config.adminToken, STINT_MASTER_KEY: b64(config.masterKey), ...prev('STINT_MASTER_KEY_PREVIOUS'), STINT_ISSUER: config.issuer, STINT_APPROVAL_URL: config.approvalUrl }),
    start('./approvals', {
      ...base,
      STINT_APPROVAL_ADMIN_TOKEN: config.approvalAdminToken,
      STINT_APPROVAL_MASTER_KEY: b64(config.approvalMasterKey),
      ...prev('STINT_APPROVAL_MASTER_KEY_PREVIOUS'),
      STINT_ISSUER: config.issuer,
      STINT_BROKER_URL: config.brokerUrl,
    }),
  ]);
  // The public URLs, the ones clients must use (DPoP `htu`, assertion and approver `aud`), not
  // the bound addresses: a client that copies this line always works.
  console.log(`stint ready broker=${config.issuer} approvals=${config.approvalUrl}`);
} catch (e) {
  shutdown(1, (e as Error).message);
}
