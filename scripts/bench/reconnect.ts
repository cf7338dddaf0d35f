// Verifiers reconnecting, as the storm benches make 200 of them do at once.
//
// In production the verifiers are other services on other machines. Here they share the broker's
// two cores, and 200 HTTP clients opening streams at once take a core's worth of CPU for most of
// a second: measured, that CPU (not the broker's thread, whose CPU per token request barely
// moved) was what stretched the load generator's p99 from tens of milliseconds to a second. So
// the fleet runs in its own process at the lowest priority (nice 19): it gets the CPU the broker
// and the load generator leave, as if it ran elsewhere, and the benches time the broker.
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Opens `/v1/events?from=recent` and resolves once `stream.open` came (the backlog is out), then closes it. */
export async function reconnect(url: string, authorization: string): Promise<void> {
  const ctl = new AbortController();
  const res = await fetch(`${url}/v1/events?from=recent`, { headers: { Authorization: authorization }, signal: ctl.signal });
  if (res.status !== 200) throw new Error(`stream: ${res.status} ${await res.text()}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended before stream.open');
    buf += value;
    if (buf.includes('event: stream.open')) break;
    buf = buf.slice(-64);
  }
  ctl.abort();
}

export interface StormResult {
  failed: number;
  why?: string;
}

/** A fleet of verifiers in a child process at nice 19; `storm` has every one reconnect at once. */
export function verifierFleet(): { storm(url: string, auths: string[]): Promise<StormResult>; close(): void } {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['fleet'], { execArgv: ['--import', 'tsx'] });
  setPriority(child.pid!, 19);
  return {
    storm: (url, auths) =>
      new Promise((resolve, reject) => {
        const gone = (code: number | null) => reject(new Error(`the verifier fleet exited ${code}`));
        child.once('exit', gone);
        child.once('message', (m: StormResult) => (child.off('exit', gone), resolve(m)));
        child.send({ url, auths });
      }),
    close: () => void child.kill(),
  };
}

if (process.argv[2] === 'fleet' && process.send) {
  process.on('message', async (m: { url: string; auths: string[] }) => {
    const r = await Promise.allSettled(m.auths.map((a) => reconnect(m.url, a)));
    const failed = r.filter((x) => x.status === 'rejected') as PromiseRejectedResult[];
    process.send!({ failed: failed.length, why: failed[0]?.reason?.message } satisfies StormResult);
  });
}
