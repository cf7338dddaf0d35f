// `npm run dev:worker`: both Workers in workerd on this machine (wrangler dev, local D1 with
// migrations applied), with the same STINT_* settings and the same ready line as `npm start`.
// Wrangler needs Node 22; it is fetched from the npm registry (`node@22`) for this command only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../src/runtime/node/config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`stint: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
for (const n of config.notices) console.log(`stint: ${n}`);
// One state folder per Worker: two wrangler dev processes must not share one (its Durable
// Object storage is locked by the process that opened it).
const persistRoot = resolve(join(config.dbPath, '..', 'worker-state'));
const persistFor = (cfg: string) => join(persistRoot, cfg === 'wrangler.toml' ? 'broker' : 'approvals');
const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');
const host = config.host;
// The broker reaches the approval Worker at its public URL (its identity: internal `iss`, `htu`);
// the approval Worker reaches the broker over loopback.
const brokerUrl = `http://${host}:${config.port}`;
const approvalsUrl = config.approvalUrl;
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_D1_WARNING: 'true', CI: 'true' };
const wrangler = (args: string[]) => ['-y', '-p', 'node@22', '--', 'node', join(root, 'node_modules/wrangler/bin/wrangler.js'), ...args];

for (const [cfg, db] of [['wrangler.toml', 'stint'], ['wrangler.approvals.toml', 'stint-approvals']] as const) {
  const r = spawnSync('npx', wrangler(['d1', 'migrations', 'apply', db, '--local', '--config', cfg, '--persist-to', persistFor(cfg)]), { cwd: root, env, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`stint: applying migrations to ${db} failed:\n${r.stderr || r.stdout}`);
    process.exit(1);
  }
}

const vars = (o: Record<string, string>) => Object.entries(o).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
const children: ChildProcess[] = [];
const start = (cfg: string, port: number, v: Record<string, string>) =>
  new Promise<void>((ready, fail) => {
    const c = spawn('npx', wrangler(['dev', '--config', cfg, '--ip', host, '--port', String(port), '--persist-to', persistFor(cfg), '--inspector-port', '0', ...vars(v)]), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let out = '';
    const on = (d: Buffer) => {
      out += d.toString();
      if (/Ready on/.test(out)) ready();
    };
    c.stdout!.on('data', on);
    c.stderr!.on('data', on);
    c.once('exit', (code) => fail(new Error(`${cfg} exited ${code}:\n${out.slice(-2000)}`)));
  });

const stop = (code: number) => {
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1000).unref();
};
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));

try {
  await Promise.all([
    start('wrangler.toml', config.port, { STINT_ISSUER: config.issuer, STINT_ADMIN_TOKEN: config.adminToken, STINT_MASTER_KEY: b64(config.masterKey), STINT_APPROVAL_URL: approvalsUrl }),
    start('wrangler.approvals.toml', config.approvalPort, {
      STINT_ISSUER: config.issuer,
      STINT_BROKER_URL: brokerUrl,
      STINT_APPROVAL_URL: approvalsUrl,
      STINT_APPROVAL_ADMIN_TOKEN: config.approvalAdminToken,
      STINT_APPROVAL_MASTER_KEY: b64(config.approvalMasterKey),
    }),
  ]);
  console.log(`stint ready broker=${config.issuer} approvals=${config.approvalUrl}`);
} catch (e) {
  console.error(`stint: ${(e as Error).message}`);
  stop(1);
}
