/** Detects a change's diff format (V4A `apply_patch`, or unified) and checks the patch fits the change's operation. */
import type { ChangeOperation } from '../../protocol/tools.js';
import { PatchError, splitPatchLines, type ParsedPatch } from './patch.js';
import { parseUnified } from './parse-unified.js';
import { parseV4A } from './parse-v4a.js';

function looksLikeV4AEnvelope(lines: string[]): boolean {
  return lines.some((l) => l.startsWith('*** Begin Patch') || /^\*\*\* (Update|Add|Delete) File:/.test(l));
}

function looksUnified(lines: string[]): boolean {
  return lines.some(
    (l, i) =>
      /^@@ [-+]/.test(l) ||
      l.startsWith('diff --git ') ||
      l.startsWith('Binary files ') ||
      l.startsWith('GIT binary patch') ||
      (l.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')),
  );
}

/**
 * Parses the diff of one change. `path` is the change's normalized path (a V4A envelope must name the same file).
 * For `delete` the diff must be empty or a V4A `*** Delete File:` envelope; the result then has no hunks. An empty
 * diff for `create` makes an empty file (an `__init__.py`, a `.gitkeep`).
 * Throws PatchError with a specific reason.
 */
export function parsePatch(diff: string, operation: ChangeOperation, path: string): ParsedPatch {
  if (operation === 'delete') {
    if (diff.trim() === '') return { format: 'v4a', hunks: [] };
    const lines = splitPatchLines(diff);
    if (looksLikeV4AEnvelope(lines)) {
      const parsed = parseV4A(lines, operation, path);
      if (parsed.hunks.length === 0) return parsed;
    }
    throw new PatchError('A delete takes an empty diff; send "" as the diff to delete the file.');
  }
  if (diff.trim() === '' && operation === 'create') return { format: 'v4a', hunks: [] };
  if (diff.trim() === '') {
    throw new PatchError(`The diff is empty; a ${operation} needs a diff in the apply_patch (V4A) format or a unified diff.`);
  }
  const lines = splitPatchLines(diff);
  const parsed = looksLikeV4AEnvelope(lines)
    ? parseV4A(lines, operation, path)
    : looksUnified(lines)
      ? parseUnified(lines)
      : parseV4A(lines, operation, path);
  const ops = parsed.hunks.flatMap((h) => h.ops);
  if (!ops.some((op) => op.kind !== ' ')) {
    throw new PatchError('The diff changes nothing: it has no lines starting with "+" or "-".');
  }
  if (operation === 'create') {
    const bad = parsed.hunks.find((h) => h.anchors.length > 0 || h.ops.some((op) => op.kind !== '+'));
    if (bad) {
      throw new PatchError(
        `A create may only add lines, but ${bad.label} has context or removed lines; send every line of the new file prefixed with "+".`,
      );
    }
  }
  return parsed;
}
