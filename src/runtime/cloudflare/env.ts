/** Refuses to start a Worker without its settings, naming the first one missing. */
export function required<E extends object>(env: E, names: (keyof E & string)[]): void {
  for (const n of names) if (!(env as Record<string, unknown>)[n]) throw new Error(`${n} is not set (wrangler secret put ${n}, or [vars])`);
}

/** A 32-byte master key from base64. */
export function decodeKey(b64: string, name: string): Uint8Array {
  const k = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (k.length !== 32) throw new Error(`${name} must be 32 bytes, base64`);
  return k;
}

/** A retention age from a var, in ms: whole days (0: for ever); anything else refuses to start (a typo must not prune). */
export function retentionDays(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,5}$/.test(raw.trim())) throw new Error(`${name} must be a whole number of days (0 keeps for ever), got "${raw}"`);
  return Number(raw.trim()) * 24 * 3600 * 1000;
}
