import { serve } from '@hono/node-server';

/** Listens and resolves with the bound URL (port 0 picks a free port). */
export function listen(app: { fetch: (req: Request) => Response | Promise<Response> }, host: string, port: number): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      const h = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${h}:${info.port}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            // Long-lived event streams would otherwise hold the server open.
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
