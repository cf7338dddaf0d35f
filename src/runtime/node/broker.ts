// The broker process: started by main.ts, reports its URL to the parent once it listens.
import { loadPolicyDir } from '../../policy/node.js';
import { fileArchive } from '../../adapters/audit-archive.js';
import { fetchVia, loadConfig } from './config.js';
import { requestLogger } from './log.js';
import { listen } from './serve.js';
import { createNodeBroker } from './wire.js';

const config = loadConfig(process.env, ['STINT_ADMIN_TOKEN', 'STINT_MASTER_KEY']);
const policy = loadPolicyDir(config.policiesDir);
const common = { policy, issuer: config.issuer, adminToken: config.adminToken, masterKey: config.masterKey, previousMasterKeys: config.previousMasterKeys, approvalUrl: config.approvalUrl, approvalFetch: fetchVia(config.approvalUrl, config.approvalReach), rateLimit: config.rateLimit, allowPrivateReceivers: config.allowPrivateReceivers, retention: { ...config.retention, archive: config.auditArchiveDir ? fileArchive(config.auditArchiveDir) : undefined }, requestLog: requestLogger('broker') };
// PostgreSQL's modules load only when asked for: a SQLite start does not pay for them.
const broker = config.databaseUrl ? await (await import('./wire-pg.js')).createNodeBrokerOnPostgres({ ...common, databaseUrl: config.databaseUrl }) : await createNodeBroker({ ...common, dbPath: config.dbPath, dbSync: config.dbSync });
const server = await listen(broker.app, config.host, config.port);

const stop = async () => {
  await server.close();
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.send?.({ ready: 'broker', url: server.url });
