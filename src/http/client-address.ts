import type { Context } from 'hono';

/**
 * The address a request came from, for rate limiting and for counting refusals. On Node it is
 * the socket's peer (a header could be forged); on Workers, where there is no socket, it is
 * `CF-Connecting-IP`, which Cloudflare sets and a client cannot. IPv6 addresses are reduced to
 * their /64: one host usually holds a whole /64 and could otherwise rotate through it.
 */
export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const raw = env?.incoming?.socket?.remoteAddress ?? (env?.incoming ? undefined : c.req.header('cf-connecting-ip'));
  return raw ? sourceKey(raw) : 'unknown';
}

export function sourceKey(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a.slice(0, 45);
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
