/**
 * Event content is hostile until proven otherwise. It is always rendered as text (never as HTML), and characters
 * that would change how the surrounding text reads — bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069),
 * marks, zero-width and other control characters — are shown as visible ⟨U+XXXX⟩ markers instead.
 */
// eslint-disable-next-line no-control-regex
const invisible = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

export function visibleText(s: string): string {
  return s.replace(invisible, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟩`);
}

/** Longest text shown in a table cell; the full value is in the row's details. */
export const cellLimit = 200;

export function cellText(s: string | undefined): string {
  if (s === undefined) return "";
  const v = visibleText(s);
  return v.length > cellLimit ? `${v.slice(0, cellLimit)}…` : v;
}
