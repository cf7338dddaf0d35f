/**
 * Text an agent controls (a purpose, a binding message, a name, a signal's detail) ends up on
 * an approver's screen. Control characters can rewrite what a terminal shows (an escape
 * sequence that moves the cursor and prints `db.read` over `volume.delete`), and bidirectional
 * overrides can reorder it, so such text is refused at the edge (`isSafeText`) and every
 * rendering escapes whatever is not printable anyway (`printable`): the screen must not depend
 * on the edge having held.
 */

/** C0 controls, DEL, C1 controls, and the bidirectional marks, embeddings, overrides and isolates. */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

export function isSafeText(s: string): boolean {
  return !UNSAFE_TEXT.test(s);
}

/** Why `s` is refused, naming the first offending code point, or undefined when it is safe. */
export function unsafeTextReason(s: string): string | undefined {
  const m = UNSAFE_TEXT.exec(s);
  if (!m) return undefined;
  return `contains a control or bidirectional character (U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

// Everything a terminal or a page could treat as other than a visible glyph: controls, format
// characters (bidi marks, zero-width joiners, BOM), line and paragraph separators, private use,
// unassigned and lone surrogates.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/gu;

/** `s` with every non-printable code point shown as `\u{…}`, so it displays as what it is. */
export function printable(s: unknown): string {
  const text = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  return text.replace(NON_PRINTABLE, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
}
