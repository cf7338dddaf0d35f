// Refusals of the egress proxy: RFC 9457 problem documents with the stint `rule` that decided,
// as an HTTP answer or written raw on a socket (CONNECT, upgrades, unparsable requests).
import type { Socket } from 'node:net';

export const problem = (status: number, rule: string, detail: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: `https://stint.dev/problems/egress/${rule}`, title: status === 400 ? 'Bad request' : 'Refused by stint egress', status, rule, detail, ...extra });

const REASON: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' };

/** Writes a whole refusal on a raw socket and closes it. */
export function rawRefusal(socket: Socket, status: number, rule: string, detail: string): void {
  const body = problem(status, rule, detail);
  socket.end(`HTTP/1.1 ${status} ${REASON[status] ?? 'Forbidden'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
