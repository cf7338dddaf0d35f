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
// Compiled (dist/, `npm start`) the children are plain JavaScript; from source (tests,
// `npm run start:dev`) they run through tsx like this process.
const fromSource = import.meta.url.endsWith('.ts');
const ext = fromSource ? '.ts' : '.js';

// Supervision: a child that dies after it was ready is started again, after a short pause that
// doubles with each crash; more than STINT_RESTARTS crashes of one child within a minute (or
// any crash with STINT_RESTARTS=0) stop everything and exit 1 naming the child. The broker
// keeps serving while the approval service restarts (its readiness says `degraded`).
const RESTART_WINDOW_MS = 60_000;
const restartsEnv = process.env.STINT_RESTARTS ?? '5';
if (!/^\d+$/.test(restartsEnv)) fatal(`STINT_RESTARTS must be a whole number (crashes of one process restarted within a minute), got "${restartsEnv}"`);
const MAX_RESTARTS = Number(restartsEnv);

interface Supervised {
  name: 'broker' | 'approvals';
  env: NodeJS.ProcessEnv;
  /** The port variable pinned after the first start, so that a restart listens where the first one did. */
  portVar: 'STINT_PORT' | 'STINT_APPROVAL_PORT';
  child?: ChildProcess;
  crashes: number[];
}
const services: Supervised[] = [];
const children = () => services.flatMap((s) => (s.child ? [s.child] : []));

/** Starts the service's process; resolves with its URL once it listens, rejects if it exits first. */
function launch(svc: Supervised): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(`./${svc.name}${ext}`, import.meta.url)), [], { env: svc.env, execArgv: fromSource ? ['--import', 'tsx'] : [], stdio: 'inherit' });
    svc.child = child;
    let ready = false;
    child.on('message', (m: { url?: string }) => {
      if (!m.url || ready) return;
      ready = true;
      const port = new URL(m.url).port;
      if (port) svc.env = { ...svc.env, [svc.portVar]: port };
      resolve(m.url);
    });
    child.on('exit', (code, signal) => {
      const why = `${svc.name} process exited (${signal ?? code})`;
      if (!ready) return reject(new Error(why));
      if (!shuttingDown) crashed(svc, why);
    });
  });
}

function crashed(svc: Supervised, why: string) {
  const now = Date.now();
  svc.crashes = [...svc.crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
  const n = svc.crashes.length;
  if (n > MAX_RESTARTS) {
    shutdown(1, MAX_RESTARTS === 0 ? why : `${why}, its ${n}th crash within a minute; giving up`);
    return;
  }
  const pause = Math.min(250 * 2 ** (n - 1), 5_000);
  console.error(`stint: ${why}; restarting it in ${pause} ms (${n} of ${MAX_RESTARTS} within a minute)`);
  setTimeout(() => {
    if (shuttingDown) return;
    launch(svc).then(
      (url) => console.error(`stint: ${svc.name} restarted at ${url}`),
      (e: Error) => shutdown(1, `${svc.name} could not be restarted: ${e.message}`),
    );
  }, pause);
}

let shuttingDown = false;
function shutdown(code: number, why?: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (why) console.error(`stint: ${why}; stopping`);
  const live = children().filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of live) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 2000).unref();
  Promise.all(live.map((c) => new Promise((r) => c.once('exit', r)))).then(() => process.exit(code));
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

const broker: Supervised = {
  name: 'broker',
  portVar: 'STINT_PORT',
  env: { ...base, STINT_ADMIN_TOKEN: config.adminToken, STINT_MASTER_KEY: b64(config.masterKey), ...prev('STINT_MASTER_KEY_PREVIOUS'), STINT_ISSUER: config.issuer, STINT_APPROVAL_URL: config.approvalUrl },
  crashes: [],
};
const approvals: Supervised = {
  name: 'approvals',
  portVar: 'STINT_APPROVAL_PORT',
  env: {
    ...base,
    STINT_APPROVAL_ADMIN_TOKEN: config.approvalAdminToken,
    STINT_APPROVAL_MASTER_KEY: b64(config.approvalMasterKey),
    ...prev('STINT_APPROVAL_MASTER_KEY_PREVIOUS'),
    STINT_ISSUER: config.issuer,
    STINT_BROKER_URL: config.brokerUrl,
  },
  crashes: [],
};
services.push(broker, approvals);

try {
  await Promise.all([launch(broker), launch(approvals)]);
  // The public URLs, the ones clients must use (DPoP `htu`, assertion and approver `aud`), not
  // the bound addresses: a client that copies this line always works.
  console.log(`stint ready broker=${config.issuer} approvals=${config.approvalUrl}`);
} catch (e) {
  shutdown(1, (e as Error).message);
}
