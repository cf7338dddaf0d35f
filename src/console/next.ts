/**
 * Where to go after signing in: `next` only if it is a path on this origin. `//evil.example/`,
 * `/\evil.example` (browsers read a backslash as a slash), `/%09/evil.example` once decoded
 * (tabs and newlines are dropped by the URL parser) and `https://evil.example` all leave the
 * origin; each falls back to `/`. The test is the parsed result, not the text: the URL parser is
 * what the browser follows.
 */
export function safeNext(next: string | null | undefined, origin: string): string {
  if (!next || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== new URL(origin).origin) return '/';
  // `/a/../..//evil.example` resolves to the path `//evil.example`: as a new location that is
  // another host again.
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith('//') ? '/' : path;
}
