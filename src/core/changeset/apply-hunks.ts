/**
 * Applies parsed hunks to a file's lines without fuzz: a hunk's context and removed lines must appear exactly,
 * in order after the previous hunk, at one place. Where several places match, a unified header's start line or a
 * V4A `@@` anchor picks one; otherwise the hunk is refused as ambiguous. The result includes the whole-file edit
 * script, from which the reviewer's diff is drawn.
 */
import { endsWithNewline, type FileLine, type FileText } from './file-text.js';
import { PatchError, quoteLine, type Hunk, type ParsedPatch } from './patch.js';

/** One line of the whole-file edit script: kept (`old` and `new`), removed (`old`), or added (`new`). */
export interface ScriptLine {
  kind: ' ' | '-' | '+';
  old?: FileLine;
  new?: FileLine;
}

export interface AppliedPatch {
  file: FileText;
  script: ScriptLine[];
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function matchesAt(lines: FileLine[], at: number, expected: string[]): boolean {
  for (let k = 0; k < expected.length; k++) if (lines[at + k]!.text !== expected[k]) return false;
  return true;
}

/** Places where `expected` matches, at most `limit` of them (enough to tell unique from ambiguous). */
function findAll(lines: FileLine[], from: number, expected: string[], limit: number): number[] {
  const found: number[] = [];
  for (let at = from; at + expected.length <= lines.length && found.length < limit; at++) {
    if (matchesAt(lines, at, expected)) found.push(at);
  }
  return found;
}

function findAnchor(lines: FileLine[], from: number, anchor: string): number {
  for (let at = from; at < lines.length; at++) if (lines[at]!.text === anchor) return at;
  // An anchor only locates (it is not changed), so a line equal after trimming is the same landmark.
  for (let at = from; at < lines.length; at++) if (lines[at]!.text.trim() === anchor) return at;
  return -1;
}

/** Explains why `expected` was not found, pointing at the first line the agent got wrong. */
function explainMismatch(lines: FileLine[], from: number, expected: string[], hunk: Hunk): string {
  const where = from > 0 ? ` after line ${from}` : '';
  const loose = (s: string) => s.replace(/\s+/g, ' ').trim();
  const looseMatch = lines.some((_, at) => at >= from && at + expected.length <= lines.length && expected.every((e, k) => loose(lines[at + k]!.text) === loose(e)));
  if (looseMatch) {
    return `${capitalize(hunk.label)} matches the file${where} only if whitespace is ignored; Deputy applies hunks exactly. Read the file again and copy its lines exactly.`;
  }
  const present = new Set(lines.slice(from).map((l) => l.text));
  const missing = expected.find((e) => !present.has(e));
  const detail = missing !== undefined ? `: the line ${quoteLine(missing)} is not in the file${where}` : `: its ${expected.length} context and removed lines do not appear together${where}`;
  return `${capitalize(hunk.label)} does not match the file${detail}. Read the file again and propose against its current content.`;
}

/** Finds where `hunk` starts in `lines`, at or after `cursor`. Throws PatchError naming the hunk. */
function locate(lines: FileLine[], cursor: number, hunk: Hunk): number {
  let from = cursor;
  for (const anchor of hunk.anchors) {
    const at = findAnchor(lines, from, anchor);
    if (at < 0) {
      throw new PatchError(`${capitalize(hunk.label)}: the "@@" line ${quoteLine(anchor)} was not found in the file${from > 0 ? ` after line ${from}` : ''}.`);
    }
    from = at + 1;
  }
  const expected = hunk.ops.filter((op) => op.kind !== '+').map((op) => op.text);
  if (expected.length === 0) {
    if (hunk.oldStart !== undefined) {
      if (hunk.oldStart < cursor || hunk.oldStart > lines.length) {
        throw new PatchError(`${capitalize(hunk.label)} inserts after line ${hunk.oldStart}, but the file has ${lines.length} lines.`);
      }
      return hunk.oldStart;
    }
    if (hunk.atEof) return lines.length;
    if (hunk.anchors.length > 0 || lines.length === 0) return from;
    throw new PatchError(
      `${capitalize(hunk.label)} only adds lines and has no context, so where it goes is ambiguous; include a few unchanged lines around the addition.`,
    );
  }
  if (hunk.atEof) {
    const at = lines.length - expected.length;
    if (at >= from && matchesAt(lines, at, expected)) return at;
    throw new PatchError(`${capitalize(hunk.label)} is marked "*** End of File" but its lines are not the end of the file.`);
  }
  const found = findAll(lines, from, expected, 6);
  if (found.length === 1 || (found.length > 1 && hunk.anchors.length > 0)) return found[0]!;
  if (found.length === 0) throw new PatchError(explainMismatch(lines, from, expected, hunk));
  // A unified header's start line pins one of several identical places exactly; that is not fuzz.
  const hinted = hunk.oldStart === undefined ? -1 : hunk.oldStart - 1;
  if (hinted >= from && hinted + expected.length <= lines.length && matchesAt(lines, hinted, expected)) return hinted;
  const places = found.slice(0, 5).map((at) => at + 1).join(', ');
  throw new PatchError(
    `${capitalize(hunk.label)} matches the file at ${found.length > 5 ? 'more than 5' : found.length} places (lines ${places}${found.length > 5 ? ', …' : ''}); include more unchanged lines, or an "@@" line naming the enclosing function, so it matches exactly one.`,
  );
}

/** Applies `patch` to `file`. Throws PatchError naming the first hunk that does not apply exactly. */
export function applyHunks(file: FileText, patch: ParsedPatch): AppliedPatch {
  const lines = file.lines;
  const script: ScriptLine[] = [];
  const keep = (line: FileLine) => script.push({ kind: ' ', old: line, new: { ...line } });
  let cursor = 0;
  let trailingNewline = endsWithNewline(file);
  for (const hunk of patch.hunks) {
    const at = locate(lines, cursor, hunk);
    for (; cursor < at; cursor++) keep(lines[cursor]!);
    for (const op of hunk.ops) {
      if (op.kind === '+') script.push({ kind: '+', new: { text: op.text, eol: file.dominantEol } });
      else if (op.kind === ' ') keep(lines[cursor++]!);
      else script.push({ kind: '-', old: lines[cursor++]! });
    }
    // Only a unified diff says what the end of the file looks like; V4A keeps the file's final-newline state.
    if (patch.format === 'unified' && cursor === lines.length) trailingNewline = !hunk.newNoEol;
  }
  for (; cursor < lines.length; cursor++) keep(lines[cursor]!);

  const newLines = script.filter((s) => s.new).map((s) => s.new!);
  newLines.forEach((line, k) => {
    const last = k === newLines.length - 1;
    if (!last && line.eol === '') line.eol = file.dominantEol;
    if (last) line.eol = trailingNewline ? line.eol || file.dominantEol : '';
  });
  return { file: { bom: file.bom, lines: newLines, dominantEol: file.dominantEol }, script };
}

/** The file a create produces from its added lines. */
export function createdText(patch: ParsedPatch): AppliedPatch {
  const ops = patch.hunks.flatMap((h) => h.ops);
  const noEol = patch.format === 'unified' && patch.hunks[patch.hunks.length - 1]!.newNoEol;
  const lines: FileLine[] = ops.map((op, k) => ({ text: op.text, eol: noEol && k === ops.length - 1 ? '' : '\n' }));
  return { file: { bom: false, lines, dominantEol: '\n' }, script: lines.map((l) => ({ kind: '+', new: l })) };
}
