import { readdirSync, readFileSync } from 'node:fs';

// CPU time per thread of a process, from Linux's /proc (clock ticks of 1/100 s). Elsewhere
// it reads nothing and the bench leaves the figures out.
const TICK_MS = 10;

function ticks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, Number(f[11]) + Number(f[12]));
    }
  } catch {
    // not Linux, or the process is gone
  }
  return out;
}

/** Starts watching `pid`; the returned function says how busy its main thread and the rest were, in % of one core. */
export function watchThreads(pid: number): () => { main: number; others: number } | undefined {
  const before = ticks(pid);
  const t0 = performance.now();
  return () => {
    const after = ticks(pid);
    const ms = performance.now() - t0;
    if (after.size === 0 || ms <= 0) return undefined;
    let main = 0;
    let others = 0;
    for (const [tid, t] of after) {
      const busy = ((t - (before.get(tid) ?? 0)) * TICK_MS * 100) / ms;
      if (tid === String(pid)) main = busy;
      else others += busy;
    }
    return { main: Math.round(main), others: Math.round(others) };
  };
}

/** The pid of a direct child of `parent` whose command line contains `marker`. */
export function childPid(parent: number, marker: string): number | undefined {
  try {
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === parent && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) return Number(p);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}
