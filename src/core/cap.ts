/**
 * Text an agent or an outsider controls (a tool name, a command, an error message, a signal's
 * detail) ends up in audit records and trajectory events, which are kept for the retention age:
 * a 100 KB command sent a thousand times must not be a hundred megabytes of log. Every string is
 * cut at `MAX_TEXT` characters with a marker saying how much went, lists and objects at
 * `MAX_ITEMS` entries, nesting at `MAX_DEPTH`, and a record still over `MAX_RECORD` characters
 * of JSON is replaced by its opening. The cut is visible (never a silent truncation): an auditor
 * sees that there was more, and how much.
 */
export const MAX_TEXT = 1024;
const MAX_ITEMS = 64;
const MAX_DEPTH = 6;
export const MAX_RECORD = 16 * 1024;

/** `s` cut at `max` characters (never inside a surrogate pair), with a marker of what went. */
export function capText(s: string, max = MAX_TEXT): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}…[truncated: ${s.length - end} more characters]`;
}

function capValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return capText(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return '…[truncated: nested too deep]';
  if (Array.isArray(v)) {
    const out = v.slice(0, MAX_ITEMS).map((x) => capValue(x, depth + 1));
    if (v.length > MAX_ITEMS) out.push(`…[truncated: ${v.length - MAX_ITEMS} more items]`);
    return out;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries.slice(0, MAX_ITEMS)) out[capText(k, 128)] = capValue(x, depth + 1);
  if (entries.length > MAX_ITEMS) out['…truncated'] = `${entries.length - MAX_ITEMS} more fields`;
  return out;
}

/** A record's data with every part capped (see above); small data comes back unchanged in content. */
export function capRecord(data: Record<string, unknown>): Record<string, unknown> {
  const capped = capValue(data, 0) as Record<string, unknown>;
  const json = JSON.stringify(capped);
  if (json.length <= MAX_RECORD) return capped;
  return { truncated: `…[truncated: ${json.length} characters of JSON]`, opening: capText(json, MAX_TEXT) };
}
