import { createServer, Socket, type Server } from 'node:net';
import { freePort } from '../helpers/process.js';

/** A TCP relay to the database that the test can cut and restore. */
export async function relay(target: URL) {
  const port = await freePort();
  const open = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = new Socket().connect(Number(target.port || 5432), target.hostname);
    open.add(client).add(upstream);
    const drop = () => (open.delete(client), open.delete(upstream), client.destroy(), upstream.destroy());
    client.on('error', drop).on('close', drop).pipe(upstream);
    upstream.on('error', drop).on('close', drop).pipe(client);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    cut() {
      cut = true;
      for (const s of open) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () => new Promise<void>((r) => (cut = true, [...open].forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

