// `npm run bench:ceiling`: what the HTTP stack alone allows on this machine, with the same load
// generator and the same request as the introspection run (a 600-byte form POST, 32
// connections): a bare node:http server, Hono on @hono/node-server reading the body through
// the Fetch Request, and Hono through stint's own listener (body read from the socket).
// Each answers a constant; nothing else is done.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { limitBody } from '../../src/http/body-limit.js';
import { freePort } from '../../src/runtime/node/launch.js';
import { listen } from '../../src/runtime/node/serve.js';
import type { LoadSpec } from './load.js';

const SECONDS = Number(process.env.SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'stint-ceiling-'));
// With the body limit every stint app has: it is what takes the listener's socket reader.
const app = new Hono().use(limitBody(64 * 1024)).post('/introspect', async (c) => c.json({ active: (await c.req.text()).length > 0 }));

/** Servers are started in this process; the load generator runs in its own. */
async function run(name: string, start: (port: number) => Promise<() => void>) {
  const port = await freePort();
  const stop = await start(port);
  const spec: LoadSpec = {
    url: `http://127.0.0.1:${port}`,
    requests: [{ method: 'POST', path: '/introspect', headers: { authorization: 'Bearer x', 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${'a'.repeat(600)}` }],
    seconds: SECONDS,
    connections: 32,
  };
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  // Async, so that this process's servers keep answering while the generator runs.
  const { stdout: out } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./load.ts', import.meta.url)), file]);
  stop();
  const r = JSON.parse(out.trim().split('\n').pop()!) as { rps: number; p50: number; p99: number };
  return `| ${name} | ${Math.round(r.rps).toLocaleString('en')} | ${r.p50} ms | ${r.p99} ms |`;
}

try {
  const rows = [
    await run('node:http, body read from the socket', async (port) => {
      const s = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ active: body.length > 0 }));
        });
      }).listen(port, '127.0.0.1');
      return () => s.close();
    }),
    await run('Hono on @hono/node-server, body read through the Fetch Request', async (port) => {
      const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
      return () => s.close();
    }),
    await run("Hono through stint's listener (body read from the socket)", async (port) => {
      const s = await listen(app, '127.0.0.1', port);
      return () => void s.close();
    }),
  ];
  console.log(`| server answering a constant (${SECONDS} s, 32 connections) | requests/s | p50 | p99 |\n|---|---|---|---|\n${rows.join('\n')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
