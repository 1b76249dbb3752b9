/** A parsed per-file patch, independent of the format it arrived in (V4A `apply_patch`, or unified diff). */

export interface PatchOp {
  kind: ' ' | '-' | '+';
  text: string;
}

export interface Hunk {
  /** How messages name this hunk: `hunk 2 (@@ -10,3 +10,4 @@)`. */
  label: string;
  ops: PatchOp[];
  /** V4A `@@ def foo():` lines: each must be found, in order, before the hunk's lines. */
  anchors: string[];
  /** Unified diffs: the 1-based old start line from the header (the line after which to insert when it removes nothing). */
  oldStart?: number;
  /** V4A `*** End of File`: the hunk must match at the end of the file. */
  atEof: boolean;
  /** Unified diffs: `\ No newline at end of file` after an old-side line / after a new-side line. */
  oldNoEol: boolean;
  newNoEol: boolean;
}

export interface ParsedPatch {
  format: 'v4a' | 'unified';
  hunks: Hunk[];
}

/** The patch text itself is wrong; the message names the line or hunk and is shown to the agent and reviewer. */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

/** Quotes a line of patch or file text for a message, cut so a huge line cannot flood it. */
export function quoteLine(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/**
 * Splits patch text into lines. A patch sent with CRLF throughout is read as if it had LF (its transport line
 * endings say nothing about the file's; Deputy keeps the file's own). A patch mixing the two is refused: which
 * lines carry a CR would be ambiguous.
 */
export function splitPatchLines(diff: string): string[] {
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const withCr = lines.filter((l) => l.endsWith('\r')).length;
  if (withCr === 0) return lines;
  const nonEmpty = lines.filter((l) => l !== '').length;
  if (withCr === nonEmpty) return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const first = lines.findIndex((l) => l.endsWith('\r'));
  throw new PatchError(
    `The diff mixes CRLF and LF line endings (line ${first + 1} ends in a carriage return, others do not). Send the diff with "\\n" line endings only; Deputy keeps the file's own line endings.`,
  );
}
