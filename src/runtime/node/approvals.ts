// The approval service process: its own port and, from the approval issue on, its own key.
import { createApprovalApp } from '../../http/approval-app.js';
import { listen } from './serve.js';

const host = process.env.STINT_HOST || '127.0.0.1';
const port = Number(process.env.STINT_APPROVAL_PORT || 8788);
const server = await listen(createApprovalApp(), host, port);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.send?.({ ready: 'approvals', url: server.url });
