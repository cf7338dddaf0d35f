/**
 * Whether a URL's host names this machine or a private network: loopback, RFC 1918, link-local
 * (cloud metadata lives at 169.254.169.254), carrier-grade NAT, unique-local IPv6, and names
 * such as `localhost`. A SET receiver there would let whoever registers receivers make the
 * broker send requests inside its own network. Only literal addresses and reserved names are
 * recognised: a public name that resolves to a private address is not (see the threat model).
 * Used for SET receivers (the broker) and approval-notice webhooks (the approval service).
 */
export function isPrivateHost(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return true;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // A fully qualified name ends in a dot and resolves as the name without it: `localhost.` and
  // `metadata.google.internal.` are the same hosts as `localhost` and `metadata.google.internal`.
  host = host.replace(/\.+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal') || host === '') return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) return privateV4(v4.slice(1).map(Number));
  if (host.includes(':')) {
    const mapped = /^::ffff:(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
    if (mapped) return privateV4(mapped.slice(1).map(Number));
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (hex) {
      const [a, b] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
      return privateV4([a >> 8, a & 255, b >> 8, b & 255]);
    }
    if (host === '::' || host === '::1') return true;
    const first = parseInt(host.split(':')[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80; // fc00::/7, fe80::/10
  }
  return false;
}

function privateV4([a, b]: number[]): boolean {
  return (
    a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168) || (a === 100 && b! >= 64 && b! <= 127) || a! >= 224
  );
}
