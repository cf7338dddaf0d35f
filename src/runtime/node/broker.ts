// The broker process: started by main.ts, reports its URL to the parent once it listens.
import { loadPolicyDir } from '../../policy/node.js';
import { fetchVia, loadConfig } from './config.js';
import { requestLogger } from './log.js';
import { listen } from './serve.js';
import { createNodeBroker } from './wire.js';

const config = loadConfig(process.env, ['STINT_ADMIN_TOKEN', 'STINT_MASTER_KEY']);
const policy = loadPolicyDir(config.policiesDir);
const broker = await createNodeBroker({ dbPath: config.dbPath, policy, issuer: config.issuer, adminToken: config.adminToken, masterKey: config.masterKey, previousMasterKeys: config.previousMasterKeys, dbSync: config.dbSync, approvalUrl: config.approvalUrl, approvalFetch: fetchVia(config.approvalUrl, config.approvalReach), rateLimit: config.rateLimit, allowPrivateReceivers: config.allowPrivateReceivers, requestLog: requestLogger('broker') });
const server = await listen(broker.app, config.host, config.port);

const stop = async () => {
  await server.close();
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.send?.({ ready: 'broker', url: server.url });
