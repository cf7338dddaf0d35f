// A fault inside the supervisor fails closed: the command's process group is killed, the proxy
// closes with its open connections, the run directory (socket, CA) is removed, and why is said.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunCa } from '../../src/egress/ca.js';
import { Placeholders } from '../../src/egress/placeholders.js';
import { createEgressProxy } from '../../src/egress/proxy.js';
import { failClosed } from '../../src/egress/watchdog.js';

describe('failClosed', () => {
  it('kills the command group, closes the proxy and its connections, removes the run directory, and says why', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'stint-run-'));
    chmodSync(runDir, 0o700);
    const sock = join(runDir, 'proxy.sock');
    const proxy = createEgressProxy({
      taskId: 'task_1', taskToken: 'x', issuer: 'http://127.0.0.1:1', ca: await createRunCa(), placeholders: new Placeholders('task_1'), custody: [], inspect: [], allow: [], graphqlHosts: [], decideMethods: [],
      decide: async () => ({ decision: true, context: { reason: 'allowed' } }), liveness: () => ({ live: true }),
    });
    await new Promise<void>((r) => proxy.server.listen(sock, r));
    // the command, with a child of its own in its group
    const child = spawn('/bin/sh', ['-c', 'sleep 60 & sleep 60'], { detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    // an open connection from inside (a keep-alive socket, a tunnel)
    const open = connect(sock);
    await new Promise<void>((r) => open.on('connect', () => r()));
    const closed = new Promise<void>((r) => open.on('close', () => r()));
    open.on('error', () => {});

    const printed: string[] = [];
    let dismissed = false;
    failClosed(new Error('boom\nat line 2'), { halt: proxy.halt, close: proxy.close, childPid: child.pid, runDir, watchdog: { done: () => (dismissed = true) }, print: (l) => printed.push(l) });

    expect(await exited).toBe('SIGKILL');
    await closed;
    expect(existsSync(runDir)).toBe(false);
    const again = await new Promise<string>((r) => {
      const s = connect(sock);
      s.on('connect', () => (s.destroy(), r('connected')));
      s.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    });
    expect(['ENOENT', 'ECONNREFUSED']).toContain(again);
    expect(dismissed).toBe(true);
    expect(printed).toEqual(['stint run: the supervisor failed (boom at line 2): the command was ended and its network closed']);
  });
});
