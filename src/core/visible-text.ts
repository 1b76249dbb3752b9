/**
 * HACK: a local stand-in for the shared sanitiser that branch h6-approvals-secrets adds at this path; this file is
 * replaced by that one when the branch lands (same exports, same escapes). Agent-made text must show every
 * invisible, format or control character as a visible `<U+XXXX>` escape; only newline, tab and space stay.
 */
const INVISIBLE = /(?![\t\n ])[\p{C}\p{Mn}\p{Me}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]/gu;

export function codePointEscape(char: string): string {
  return `<U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`;
}

export function visibleText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(INVISIBLE, codePointEscape);
}

export function visibleLine(text: string): string {
  return visibleText(text).replace(/[\n\t]/g, codePointEscape);
}
