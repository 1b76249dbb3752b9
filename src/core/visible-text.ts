/**
 * What a person reviews must be what is there. Agent-made text (messages, diffs, paths, summaries, rationales)
 * reaches a person on the terminal now and in the editor's webview later; any character that is invisible, changes
 * how its neighbours render, or moves the cursor could make them approve something other than what they read:
 * an ANSI sequence that erases a line, a bidi override that reorders code ("Trojan Source"), a zero-width space in a
 * path, tag characters that smuggle hidden text, a Hangul filler that looks like a space.
 *
 * `visibleText` replaces every such character with a visible escape naming its code point (`<U+200B>`), so the text
 * keeps its meaning and the reviewer sees that something unusual is there. Only newline, tab and the plain space
 * stay as they are. Escaped:
 * - control characters (Cc) other than newline and tab, including a carriage return not followed by a newline;
 * - format characters (Cf): zero-width (U+200B–U+200D, U+2060), bidi marks, embeddings, overrides and isolates,
 *   soft hyphen, BOM, tag characters (U+E0000–U+E007F), …;
 * - combining marks (Mn, Me), which includes variation selectors: accented text written with combining marks shows
 *   escapes (precomposed letters such as `é` U+00E9 are unaffected);
 * - separators (Zs, Zl, Zp) other than U+0020: no-break and other-width spaces, line and paragraph separators;
 * - everything Unicode calls default-ignorable (fillers U+115F, U+1160, U+3164, U+FFA0, …) and the blank braille
 *   pattern U+2800;
 * - surrogates without a partner, private-use and unassigned code points (they render as the font pleases).
 *
 * The one sanitiser for every front end: the CLI and the webview both import it.
 */

/** Everything escaped; the lookahead keeps tab, newline and space, which the classes would otherwise include. */
const INVISIBLE = /(?![\t\n ])[\p{C}\p{Mn}\p{Me}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]/gu;

/** `<U+XXXX>` for one code point (astral code points keep all their digits: `<U+E0041>`). */
export function codePointEscape(char: string): string {
  return `<U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** `text` with every invisible, format or control character except newline and tab shown as `<U+XXXX>`. */
export function visibleText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(INVISIBLE, codePointEscape);
}

/** `visibleText` for text that must stay on one line (a path, a tool name): newlines and tabs are escaped too. */
export function visibleLine(text: string): string {
  return visibleText(text).replace(/[\n\t]/g, codePointEscape);
}
