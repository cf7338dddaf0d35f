import { Agent, request } from 'node:http';
import type { LoadSpec } from './load.js';

/**
 * An open-loop, evenly paced load: one request every 1/rate s, latency measured from when it
 * was due (so a stall is not hidden by the sender waiting). autocannon's own rate limit sends
 * each second's quota in a burst at the start of the second, which measures the burst, not
 * the server.
 */
export async function paced(spec: LoadSpec & { rate: number }) {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let i = 0;
  const total = Math.floor(spec.rate * spec.seconds);
  const start = performance.now();
  const send = (due: number) =>
    new Promise<void>((resolve) => {
      const r = spec.requests[Math.min(i++, spec.requests.length - 1)]!;
      const req = request(
        { host: url.hostname, port: url.port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { 'content-length': Buffer.byteLength(r.body) } : {}) }, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            if (res.statusCode! >= 200 && res.statusCode! < 300) ok++;
            else non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(r.body);
    });
  const inflight: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / spec.rate <= now) {
        inflight.push(send(start + (sent * 1000) / spec.rate));
        sent++;
      }
      if (sent >= total) {
        clearInterval(tick);
        done();
      }
    }, 1);
  });
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]! * 100) / 100;
  return { requests: latencies.length, rps: latencies.length / ((performance.now() - start) / 1000), ok, non2xx, errors, p50: q(50), p99: q(99), used: i, available: spec.requests.length };
}
