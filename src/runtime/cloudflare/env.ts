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
