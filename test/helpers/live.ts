import { OperatorClient } from '../../src/client/operator.js';
import type { AwsApi } from '../../src/core/providers/aws/provider.js';
import type { Policy } from '../../src/core/policy.js';
import { createNodeBroker } from '../../src/runtime/node/wire.js';
import { listen } from '../../src/runtime/node/serve.js';
import { defaultPolicy } from './policy.js';
import { freePort } from './process.js';

export const LIVE_ADMIN = 'live-admin-token-0123456789';

/** A broker listening on a real port (event streams need one), and an operator client for it. */
export async function liveBroker(o: { heartbeatMs?: number; aws?: AwsApi; policy?: Policy } = {}) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const broker = await createNodeBroker({ dbPath: ':memory:', policy: o.policy ?? defaultPolicy(), issuer, adminToken: LIVE_ADMIN, masterKey: new Uint8Array(32).fill(3), heartbeatMs: o.heartbeatMs ?? 200, aws: o.aws });
  const server = await listen(broker.app, '127.0.0.1', port);
  const operator = new OperatorClient(issuer, LIVE_ADMIN);
  return { issuer, broker, operator, close: async () => (await server.close(), await broker.close()) };
}
