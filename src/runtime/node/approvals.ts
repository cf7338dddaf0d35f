// The approval service process: its own port, database file and key (the approval
// authority). It never receives the broker's admin token or master key.
import { loadPolicyDir } from '../../policy/node.js';
import { join } from 'node:path';
import { fileArchive } from '../../adapters/audit-archive.js';
import { loadConfig } from './config.js';
import { requestLogger } from './log.js';
import { listen } from './serve.js';
import { createNodeApprovals } from './wire.js';

const config = loadConfig(process.env, ['STINT_APPROVAL_ADMIN_TOKEN', 'STINT_APPROVAL_MASTER_KEY']);
const policy = loadPolicyDir(config.policiesDir);
let handler: (req: Request, env: object) => Response | Promise<Response> = () => new Response('starting', { status: 503, headers: { 'Retry-After': '1' } });
const server = await listen({ fetch: (req, env) => handler(req, env) }, config.host, config.approvalPort);
const common = {
  policy,
  issuer: config.issuer,
  // The public URL (the ready line's): approvers' `aud` and the `htu` of agents' proofs here.
  selfUrl: config.approvalUrl,
  brokerUrl: config.brokerUrl,
  adminToken: config.approvalAdminToken,
  masterKey: config.approvalMasterKey,
  previousMasterKeys: config.previousApprovalMasterKeys,
  rateLimit: config.rateLimit,
  allowPrivateReceivers: config.allowPrivateReceivers,
  auditRetentionMs: config.retention.auditMs,
  requestRetentionMs: config.retention.tasksMs,
  // Its own folder: the two chains are signed by different keys.
  auditArchive: config.auditArchiveDir ? fileArchive(join(config.auditArchiveDir, 'approvals')) : undefined,
  // Passkeys need a host name, not an IP address: the console answers on localhost by default.
  origin: process.env.STINT_APPROVAL_ORIGIN ?? `http://localhost:${new URL(server.url).port}`,
  requestLog: requestLogger('approvals'),
};
// PostgreSQL's modules load only when asked for: a SQLite start does not pay for them.
const approvals = config.approvalDatabaseUrl
  ? await (await import('./wire-pg.js')).createNodeApprovalsOnPostgres({ ...common, databaseUrl: config.approvalDatabaseUrl })
  : await createNodeApprovals({ ...common, dbPath: config.approvalDbPath, dbSync: config.dbSync });
handler = approvals.app.fetch;

const stop = async () => {
  await server.close();
  await approvals.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.send?.({ ready: 'approvals', url: server.url });
