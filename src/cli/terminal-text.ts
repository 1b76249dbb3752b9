/**
 * Text from the agent (its messages, diffs, rationales, paths, tool summaries) is shown on the person's terminal;
 * a control sequence in it could rewrite what they see before they approve it (erase a line, move the cursor,
 * set the clipboard). Everything agent-made goes through `clean` first: control characters and bidirectional
 * overrides become visible escapes; newlines and tabs stay.
 */

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters). */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

export function clean(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(BIDI, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}
