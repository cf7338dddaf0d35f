// The agent's sandbox on Linux: bubblewrap with its own network namespace (only a loopback
// interface, so a direct connection fails), its own PID namespace and /proc (the supervisor's
// memory and environment are out of sight), and the files that decide anything hidden: the agent
// key, STINT_HOME (the task and its DPoP key), the broker's data folder. The proxy is reached
// through a unix socket bound into the sandbox and bridged by socat to 127.0.0.1:<port> inside.
//
// Trade-off: the root file system is bound read-write (the agent keeps its user's rights on the
// workspace and caches), so the hidden paths are over-mounted one by one; a path that does not
// exist when the run starts is created as an empty directory in the sandbox only.
// Checked against @anthropic-ai/sandbox-runtime 0.0.83 (pre-1.0, its own proxy and policy
// format): its network mode runs its own filtering proxy, where this one must be stint's.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

export const INSIDE_DIR = '/run/stint';
export const INSIDE_SOCKET = `${INSIDE_DIR}/proxy.sock`;
export const INSIDE_CA = `${INSIDE_DIR}/ca.pem`;

/** Why no sandbox can be made here, or undefined when bubblewrap and socat work. */
export function sandboxUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `no sandbox on ${process.platform} yet (Linux: bubblewrap)`;
  const probe = spawnSync('bwrap', ['--unshare-net', '--die-with-parent', '--ro-bind', '/', '/', 'true'], { stdio: 'ignore', timeout: 5000 });
  if (probe.error || probe.status !== 0) return `bubblewrap cannot make a network namespace here (${probe.error?.message ?? `exit ${probe.status}`})`;
  const socat = spawnSync('socat', ['-V'], { stdio: 'ignore', timeout: 5000 });
  if (socat.error || socat.status !== 0) return 'socat is not installed (apt-get install socat)';
  return undefined;
}

export interface SandboxSpec {
  /** Host directory holding proxy.sock and ca.pem (bound read-only at INSIDE_DIR). */
  runDir: string;
  /** Paths to hide (files become empty, directories empty tmpfs). */
  hide: string[];
  /** Loopback port inside where socat listens. */
  port: number;
  cwd: string;
  argv: string[];
}

/** The bwrap command line that runs `argv` in the sandbox. */
export function bwrapArgv(spec: SandboxSpec): string[] {
  const args = ['--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--bind', '/', '/', '--proc', '/proc', '--dev', '/dev'];
  for (const p of [...new Set(spec.hide)]) {
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) args.push('--tmpfs', p);
    else args.push('--ro-bind', '/dev/null', p);
  }
  args.push('--tmpfs', '/run', '--ro-bind', spec.runDir, INSIDE_DIR, '--chdir', spec.cwd);
  const hex = spec.port.toString(16).toUpperCase().padStart(4, '0');
  // socat first; the command starts once its listener is in /proc/net/tcp (state 0A).
  const script = [
    `socat TCP-LISTEN:${spec.port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${INSIDE_SOCKET} 2>/dev/null &`,
    'i=0',
    `while ! grep -q ":${hex} 00000000:0000 0A" /proc/net/tcp; do i=$((i+1)); [ $i -gt 500 ] && { echo "stint run: the proxy bridge did not start" >&2; exit 125; }; sleep 0.01; done`,
    'exec "$@"',
  ].join('\n');
  return [...args, '--', '/bin/sh', '-c', script, 'stint-run', ...spec.argv];
}
