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

const SCRIPT = [
  'r=$(cat)',
  '[ "$r" = done ] && exit 0',
  'kill -KILL -- "-$3" 2>/dev/null',
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
