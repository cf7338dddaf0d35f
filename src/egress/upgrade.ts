// Upgrades (WebSocket) through the egress proxy. At a host the proxy must read, the frames after
// the handshake could carry what it exists to read (a token in `connection_init`, a mutation
// over graphql-ws), and it does not read frames: the upgrade is refused, clearly, 403 `upgrade`.
// At a host the policy tunnels unread (`egress.allow`), the handshake and the frames are relayed
// as a CONNECT tunnel would be. Never a silent close.
import type { IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { rawRefusal } from './problem.js';

export interface UpgradeContext {
  /** A refusal (status, rule, detail) before anything else, or undefined: the task is live. */
  gate: () => [number, string, string] | undefined;
  inspected: (host: string) => boolean;
  allowed: (host: string) => boolean;
  target: (host: string, port: number) => { host: string; port: number };
  log: (line: Record<string, unknown>) => void;
}

export const upgradeRefused = (what: string | undefined, host: string) =>
  `a ${what ?? ''} upgrade to ${host} is refused: its frames could not be read, and ${host} is a host the egress proxy must read (tunnelled hosts in egress.allow relay upgrades)`;

/** An upgrade sent to the proxy itself (absolute-form `GET http://host/… Upgrade: websocket`). */
export function relayUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, c: UpgradeContext): void {
  socket.on('error', () => socket.destroy());
  const refuse = (status: number, rule: string, detail: string) => {
    c.log({ decision: 'refuse', rule });
    rawRefusal(socket, status, rule, detail);
  };
  let u: URL;
  try {
    u = new URL(req.url ?? '');
    if (u.protocol !== 'http:' && u.protocol !== 'ws:') throw new Error('scheme');
  } catch {
    return refuse(400, 'malformed', 'an upgrade through the proxy needs an absolute http:// (or ws://) URL');
  }
  const host = u.hostname.toLowerCase();
  const gate = c.gate();
  if (gate) return refuse(...gate);
  if (c.inspected(host)) return refuse(403, 'upgrade', upgradeRefused(req.headers.upgrade, host));
  if (!c.allowed(host)) return refuse(403, 'egress_not_allowed', `${host} is not in the policy's egress.allow`);
  const t = c.target(host, Number(u.port || 80));
  const up = netConnect(t.port, t.host, () => {
    // Origin-form to the upstream; Upgrade and Connection kept (they are the point), the
    // proxy's own headers dropped.
    const lines = [`${req.method} ${u.pathname}${u.search} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const n = req.rawHeaders[i]!;
      if (!/^proxy-/i.test(n)) lines.push(`${n}: ${req.rawHeaders[i + 1]}`);
    }
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
    c.log({ decision: 'tunnel', host, upgrade: req.headers.upgrade });
  });
  up.on('error', () => (socket.writable ? refuse(502, 'upstream', `the upstream ${host} could not be reached`) : socket.destroy()));
  socket.on('close', () => up.destroy());
}
