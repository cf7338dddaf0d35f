/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';

/**
 * Characters that would act instead of being seen: C0/C1 controls (terminal escapes, line
 * breaks), format characters (bidirectional overrides and isolates, zero-width joiners),
 * line/paragraph separators, private-use and unassigned code points.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');

export const escapeCodePoint = (ch: string) => `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`;

/** Agent-controlled text as inert pieces: each hidden character shown as its code point, marked. */
export function Visible({ text }: { text: string | null | undefined }) {
  const s = text ?? '';
  const parts: Child[] = [];
  let last = 0;
  for (const m of s.matchAll(HIDDEN_ALL)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    parts.push(
      <span class="ctl" title="a hidden character, shown as its code point">
        {escapeCodePoint(m[0])}
      </span>,
    );
    last = m.index + m[0].length;
  }
  if (last < s.length) parts.push(s.slice(last));
  // <bdi> keeps whatever directionality remains inside its own box.
  return <bdi class="agent-text">{parts}</bdi>;
}

/** The same, as plain text (for titles and attributes). */
export const visibleText = (s: string) => s.replace(HIDDEN_ALL, escapeCodePoint);
