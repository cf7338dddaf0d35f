// The load generator, run as its own process so that its work is not the servers': replays
// pre-signed requests (each used once: assertions and DPoP proofs are single-use) with
// autocannon for a fixed time (or, with a rate, evenly paced), and prints one JSON line.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { paced } from './paced.js';
import { watchThreads } from './threads.js';

export interface LoadSpec {
  url: string;
  /** Pre-built requests, used in order; past the end, the last few are reused. */
  requests: { method: string; path: string; headers: Record<string, string>; body?: string }[];
  seconds: number;
  connections: number;
  /** Requests per second across all connections (omit for as fast as possible). */
  rate?: number;
  /** A server process whose threads' CPU use to report for the run (Linux). */
  watch?: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;
if (spec.rate) {
  console.log(JSON.stringify(await paced({ ...spec, rate: spec.rate })));
  process.exit(0);
}
let i = 0;
const stopWatching = spec.watch ? watchThreads(spec.watch) : undefined;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  requests: [
    {
      setupRequest: (req) => {
        const r = spec.requests[Math.min(i++, spec.requests.length - 1)]!;
        return { ...req, method: r.method as 'POST', path: r.path, headers: r.headers, body: r.body };
      },
    },
  ],
});
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const server = stopWatching?.();
console.log(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
    used: i,
    available: spec.requests.length,
    server,
    generatorCpu: Math.round(((cpu.user + cpu.system) / 1000 / elapsed) * 100),
  }),
);
