/**
 * The V4A patch format of OpenAI's `apply_patch` tool:
 *
 *   *** Begin Patch
 *   *** Update File: src/app.ts
 *   @@ function main() {
 *    context
 *   -removed
 *   +added
 *   *** End of File
 *   *** End Patch
 *
 * The envelope is optional (the change object already names the path and operation), so a bare body of `@@`,
 * ` `, `-` and `+` lines is accepted too. `@@ text` lines are anchors: the hunk's lines are looked for after the
 * first line equal to the anchor. An empty line inside a hunk is an empty context line.
 */
import type { ChangeOperation } from '../../protocol/tools.js';
import { PatchError, quoteLine, type Hunk, type ParsedPatch, type PatchOp } from './patch.js';

const FILE_HEADER = /^\*\*\* (Update|Add|Delete) File: ?(.*)$/;
const HEADER_OPERATION = { Add: 'create', Update: 'update', Delete: 'delete' } as const;

interface Section {
  operation: ChangeOperation;
  /** Index in the patch lines of the first body line. */
  start: number;
  body: string[];
}

function normalizeHeaderPath(p: string): string {
  return p.trim().replace(/^(\.\/)+/, '');
}

/** Extracts the one file section of a V4A patch, checking it names `path` with the change's operation. */
function extractSection(lines: string[], operation: ChangeOperation, path: string): Section {
  let first = 0;
  let last = lines.length - 1;
  // Blank lines around the patch are transport noise; a whitespace-only line may be a context line, so it stays.
  while (first <= last && lines[first] === '') first++;
  while (last >= first && lines[last] === '') last--;
  if (lines[first]?.startsWith('*** Begin Patch')) {
    if (last === first || !lines[last]!.startsWith('*** End Patch')) {
      throw new PatchError('The patch starts with "*** Begin Patch" but does not end with "*** End Patch".');
    }
    first++;
    last--;
  } else if (lines[last]?.startsWith('*** End Patch')) {
    throw new PatchError('The patch ends with "*** End Patch" but does not start with "*** Begin Patch".');
  }
  const headers: number[] = [];
  for (let i = first; i <= last; i++) if (FILE_HEADER.test(lines[i]!)) headers.push(i);
  if (headers.length === 0) return { operation, start: first, body: lines.slice(first, last + 1) };
  if (headers.length > 1) {
    const names = headers.map((i) => quoteLine(FILE_HEADER.exec(lines[i]!)![2]!.trim())).join(', ');
    throw new PatchError(`The patch touches ${headers.length} files (${names}); put each file in its own change.`);
  }
  const h = headers[0]!;
  for (let i = first; i < h; i++) {
    if (lines[i]!.trim() !== '') throw new PatchError(`Line ${i + 1} of the patch, before the "*** … File:" header, is not part of the patch.`);
  }
  const [, verb, rawPath] = FILE_HEADER.exec(lines[h]!)!;
  const headerOperation = HEADER_OPERATION[verb as keyof typeof HEADER_OPERATION];
  if (headerOperation !== operation) {
    throw new PatchError(`The patch says "*** ${verb} File" but the change's operation is ${operation}; make them agree.`);
  }
  const named = normalizeHeaderPath(rawPath!);
  if (named !== path) {
    throw new PatchError(`The patch names the file ${quoteLine(named)} but the change's path is ${quoteLine(path)}; a change edits only its own path.`);
  }
  if (lines[h + 1]?.startsWith('*** Move to:')) {
    throw new PatchError('Moving a file ("*** Move to:") is not supported; propose a delete of the old path and a create of the new one.');
  }
  return { operation, start: h + 1, body: lines.slice(h + 1, last + 1) };
}

function parseAddBody(section: Section): Hunk[] {
  const ops: PatchOp[] = section.body.map((line, i) => {
    if (line.startsWith('+')) return { kind: '+', text: line.slice(1) };
    if (line === '') return { kind: '+', text: '' };
    throw new PatchError(`Line ${section.start + i + 1} of the patch does not start with "+"; every line of a new file must.`);
  });
  return [{ label: 'hunk 1', ops, anchors: [], atEof: false, oldNoEol: false, newNoEol: false }];
}

function parseUpdateBody(section: Section): Hunk[] {
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  const open = (): Hunk => {
    if (!current) {
      current = { label: `hunk ${hunks.length + 1}`, ops: [], anchors: [], atEof: false, oldNoEol: false, newNoEol: false };
      hunks.push(current);
    }
    return current;
  };
  section.body.forEach((line, i) => {
    const lineNo = section.start + i + 1;
    if (line.startsWith('@@')) {
      if (current && current.ops.length > 0) current = undefined;
      const hunk = open();
      const anchor = line.slice(2).trim();
      if (anchor !== '') {
        hunk.anchors.push(anchor);
        hunk.label = `hunk ${hunks.length} (@@ ${anchor.length > 60 ? `${anchor.slice(0, 60)}…` : anchor})`;
      }
      return;
    }
    if (line.startsWith('*** End of File')) {
      if (!current || current.ops.length === 0) throw new PatchError(`Line ${lineNo}: "*** End of File" must follow a hunk's lines.`);
      current.atEof = true;
      current = undefined;
      return;
    }
    if (line.startsWith('***')) {
      throw new PatchError(`Line ${lineNo} of the patch, ${quoteLine(line)}, is not a V4A directive this change can contain.`);
    }
    const kind = line === '' ? ' ' : line[0];
    if (kind !== ' ' && kind !== '-' && kind !== '+') {
      throw new PatchError(
        `Line ${lineNo} of the patch, ${quoteLine(line)}, starts with neither " ", "-", "+" nor "@@"; prefix unchanged lines with a space.`,
      );
    }
    open().ops.push({ kind, text: line.slice(1) });
  });
  const empty = hunks.find((h) => h.ops.length === 0);
  if (empty) throw new PatchError(`${capitalize(empty.label)} has an "@@" line but no lines after it.`);
  if (hunks.length === 0) throw new PatchError('The patch has no hunks.');
  return hunks;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Parses V4A patch lines (already split, CRLF handled) for one change. Throws PatchError. */
export function parseV4A(lines: string[], operation: ChangeOperation, path: string): ParsedPatch {
  const section = extractSection(lines, operation, path);
  if (section.operation === 'delete') {
    if (section.body.some((l) => l.trim() !== '')) throw new PatchError('A "*** Delete File:" section takes no lines after it.');
    return { format: 'v4a', hunks: [] };
  }
  return { format: 'v4a', hunks: section.operation === 'create' ? parseAddBody(section) : parseUpdateBody(section) };
}
