/**
 * Unified diffs (`diff -u`, `git diff`) for one file. Headers (`diff --git`, `index`, `---`, `+++`, mode lines)
 * are optional and ignored; a second file's headers are refused. A hunk's body runs to the next `@@` line, so a
 * miscounted header does not swallow or drop lines; its start line is used only to choose between identical
 * places and to place a pure insertion.
 */
import { PatchError, quoteLine, type Hunk, type ParsedPatch } from './patch.js';

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;
const NO_NEWLINE = '\\ No newline at end of file';

function isFileHeaderStart(lines: string[], i: number): boolean {
  const line = lines[i]!;
  return line.startsWith('diff --git ') || (line.startsWith('--- ') && (lines[i + 1]?.startsWith('+++ ') ?? false));
}

/** Parses unified diff lines (already split, CRLF handled). Throws PatchError naming the line or hunk. */
export function parseUnified(allLines: string[]): ParsedPatch {
  // Blank lines after the last hunk are transport noise, not empty context lines.
  let end = allLines.length;
  while (end > 0 && allLines[end - 1] === '') end--;
  const lines = allLines.slice(0, end);
  let i = 0;
  let sawFileHeader = false;
  while (i < lines.length && !lines[i]!.startsWith('@@')) {
    const line = lines[i]!;
    if (line.startsWith('Binary files ') || line.startsWith('GIT binary patch')) {
      throw new PatchError('The diff is a binary patch; Deputy edits text files only.');
    }
    if (line.startsWith('--- ')) {
      if (sawFileHeader) throw new PatchError('The diff has headers for more than one file; put each file in its own change.');
      sawFileHeader = true;
    }
    i++;
  }
  const hunks: Hunk[] = [];
  while (i < lines.length) {
    const header = lines[i]!;
    const m = HUNK_HEADER.exec(header);
    const n = hunks.length + 1;
    if (!m) {
      throw new PatchError(
        `Hunk ${n}'s header ${quoteLine(header)} (line ${i + 1}) is malformed; expected "@@ -start,count +start,count @@".`,
      );
    }
    const label = `hunk ${n} (${header.slice(0, header.indexOf('@@', 2) + 2)})`;
    const hunk: Hunk = { label, ops: [], anchors: [], oldStart: Number(m[1]), atEof: false, oldNoEol: false, newNoEol: false };
    hunks.push(hunk);
    i++;
    while (i < lines.length && !lines[i]!.startsWith('@@')) {
      const line = lines[i]!;
      if (isFileHeaderStart(lines, i)) {
        throw new PatchError(`Line ${i + 1} starts another file's diff; put each file in its own change.`);
      }
      if (line.startsWith('\\')) {
        if (line !== NO_NEWLINE && !line.startsWith('\\ No newline')) {
          throw new PatchError(`Line ${i + 1}, ${quoteLine(line)}, is not a known "\\" marker.`);
        }
        const prev = hunk.ops[hunk.ops.length - 1];
        if (!prev) throw new PatchError(`Line ${i + 1}: "${NO_NEWLINE}" must follow a line of the hunk.`);
        if (prev.kind !== '+') hunk.oldNoEol = true;
        if (prev.kind !== '-') hunk.newNoEol = true;
        i++;
        continue;
      }
      const kind = line === '' ? ' ' : line[0];
      if (kind !== ' ' && kind !== '-' && kind !== '+') {
        throw new PatchError(
          `Line ${i + 1}, ${quoteLine(line)}, in ${label} starts with neither " ", "-", "+" nor "\\"; prefix unchanged lines with a space.`,
        );
      }
      hunk.ops.push({ kind, text: line.slice(1) });
      i++;
    }
    if (hunk.ops.length === 0) throw new PatchError(`${label.charAt(0).toUpperCase()}${label.slice(1)} has no lines.`);
  }
  if (hunks.length === 0) throw new PatchError('The diff has file headers but no "@@" hunks.');
  return { format: 'unified', hunks };
}
