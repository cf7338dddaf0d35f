// Fail closed when the supervisor dies. The supervisor (the `stint run` process) holds the proxy;
// if it is killed (SIGKILL, the OOM killer) or crashes, nothing of it can speak any more. The
// sandbox dies with it (bubblewrap's --die-with-parent, and the kernel ends a PID namespace with
// its init), and the proxy socket has no listener from then on, so the command has no network:
// not directly (its own network namespace) and not through the socket. What is left is to say
// so: a tiny process outside the sandbox holds the read end of a pipe the supervisor writes
// `done` to when it ends normally. End of file without `done` means the supervisor died: it
// ends the command's process group (for --no-sandbox, where no namespace does it), removes the
// run directory (the socket and the CA certificate) and prints why on the run's stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const SCRIPT = [
  'r=$(cat)',
  '[ "$r" = done ] && exit 0',
  'kill -s KILL -- "-$3" 2>/dev/null', // dash: -s, then -- before a negative pid (a process group)
  'rm -rf -- "$2"',
  'echo "stint run: the supervisor (pid $1) ended without finishing (killed or crashed): the command was ended and had no network from then on (fail closed: its sandbox died with the supervisor and the proxy socket has no listener)" >&2',
  'exit 1',
].join('\n');

export interface Watchdog {
  /** The supervisor ends normally: the watchdog leaves quietly. */
  done(): void;
}

/** Starts the watchdog for `childPid`'s process group and the run directory `runDir`. */
export function startWatchdog(childPid: number, runDir: string): Watchdog {
  const w: ChildProcess = spawn('/bin/sh', ['-c', SCRIPT, 'stint-run-watchdog', String(process.pid), runDir, String(childPid)], {
    stdio: ['pipe', 'ignore', 'inherit'],
    detached: true, // a Ctrl-C to the terminal's group must not take it first
  });
  w.on('error', () => {});
  w.stdin!.on('error', () => {});
  w.unref();
  (w.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    done() {
      w.stdin!.end('done\n');
    },
  };
}

/**
 * A fault inside the supervisor (an uncaught exception, a rejected promise nobody awaited): the
 * proxy refuses from now on and closes with every tunnel, the command's process group is killed,
 * the run directory removed, the watchdog dismissed (this says why itself), and the reason
 * printed. The caller exits (2).
 */
export function failClosed(
  e: unknown,
  o: { halt: (rule: string, reason: string) => void; close: () => unknown; childPid?: number; runDir: string; watchdog?: Watchdog; print: (line: string) => void },
): void {
  o.print(`stint run: the supervisor failed (${e instanceof Error ? e.message : String(e)}): the command was ended and its network closed`.replace(/[\r\n]+/g, ' '));
  o.halt('supervisor_failed', 'the supervisor failed');
  try {
    if (o.childPid) process.kill(-o.childPid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  void Promise.resolve()
    .then(o.close)
    .catch(() => undefined);
  rmSync(o.runDir, { recursive: true, force: true });
  o.watchdog?.done();
}
