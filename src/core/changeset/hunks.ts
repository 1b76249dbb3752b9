/**
 * A proposed file's diff as selectable hunks (issue 9 §1 "keep a subset of a file's hunks"), and the content a
 * selection produces. The hunks are those of the reviewer's diff (`displayDiff`, 3 lines of context), so what a
 * person selects is exactly what they saw. Applying a selection re-anchors the kept hunks on the file's content at
 * apply time with the same exact, fuzz-free matching as the agent's own patch: a file edited elsewhere since the agent
 * read it still takes the hunks; a file edited where a kept hunk lands is a conflict.
 */
import type { ChangesetHunk, RevisionMark } from '../../protocol/events.js';
import { sha256Hex } from '../workspace-text.js';
import { applyHunks } from './apply-hunks.js';
import { joinText, splitText } from './file-text.js';
import { parseUnified } from './parse-unified.js';
import { PatchError, splitPatchLines, type Hunk } from './patch.js';
import type { PreparedFile } from './types.js';

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * The hunks of a ready file's diff, each with an id that depends only on its path and its lines (plus an ordinal
 * among identical hunks of the file), so the same change keeps its id from one round to the next.
 */
export function reviewHunks(file: Pick<PreparedFile, 'path' | 'status' | 'displayDiff'>): ChangesetHunk[] {
  if (file.status !== 'ready' || file.displayDiff === '') return [];
  const lines = splitPatchLines(file.displayDiff);
  const hunks: ChangesetHunk[] = [];
  const seen = new Map<string, number>();
  let current: ChangesetHunk | null = null;
  for (const line of lines) {
    const m = HUNK_HEADER.exec(line);
    if (m) {
      const oldStart = Number(m[1]);
      const oldLines = m[2] === undefined ? 1 : Number(m[2]);
      const newStart = Number(m[3]);
      const newLines = m[4] === undefined ? 1 : Number(m[4]);
      current = { hunkId: '', header: line, oldStart, oldLines, newStart, newLines, lines: [] };
      hunks.push(current);
    } else if (current) {
      current.lines.push(line);
    }
  }
  for (const h of hunks) {
    const body = `${file.path}\n${h.lines.join('\n')}`;
    const n = seen.get(body) ?? 0;
    seen.set(body, n + 1);
    h.hunkId = sha256Hex(`${body}\n#${n}`).slice(0, 16);
  }
  return hunks;
}

/** What a selection of hunks produces on the file's current content. */
export type KeptContent = { content: string } | { conflict: string };

/**
 * The content of an `update` after applying only `keep` (hunk ids of `reviewHunks(file)`) to `current`, the file's
 * text now. When `current` is still the base and every hunk is kept, that is exactly the proposal. Unknown ids are
 * the caller's to refuse before this is called.
 */
export function applyKeptHunks(file: PreparedFile, current: string, keep: ReadonlySet<string>): KeptContent {
  const all = reviewHunks(file);
  if (file.after !== null && file.before === current && all.every((h) => keep.has(h.hunkId))) return { content: file.after };
  const parsed = parseUnified(splitPatchLines(file.displayDiff)).hunks;
  const chosen: Hunk[] = [];
  all.forEach((h, i) => {
    if (keep.has(h.hunkId)) chosen.push(parsed[i]!);
  });
  if (chosen.length === 0) return { content: current };
  try {
    return { content: joinText(applyHunks(splitText(current), { format: 'unified', hunks: chosen }).file) };
  } catch (err) {
    if (err instanceof PatchError) {
      return { conflict: `"${file.path}" changed where a kept hunk applies, so it was not written: ${err.message}` };
    }
    throw err;
  }
}

/**
 * Marks each hunk of a revised file against the previous round's hunks of the same file: `unchanged` (same id),
 * `changed` (its old range overlaps a previous hunk that is gone) or `new`. Returns the file's own mark too.
 */
export function markRevision(hunks: ChangesetHunk[], previous: ChangesetHunk[] | undefined): RevisionMark {
  if (previous === undefined) {
    for (const h of hunks) h.revision = 'new';
    return 'new';
  }
  const ids = new Set(previous.map((h) => h.hunkId));
  const gone = previous.filter((p) => !hunks.some((h) => h.hunkId === p.hunkId));
  const overlaps = (a: ChangesetHunk, b: ChangesetHunk) => a.oldStart < b.oldStart + Math.max(1, b.oldLines) && b.oldStart < a.oldStart + Math.max(1, a.oldLines);
  for (const h of hunks) h.revision = ids.has(h.hunkId) ? 'unchanged' : gone.some((p) => overlaps(h, p)) ? 'changed' : 'new';
  return hunks.length === previous.length && hunks.every((h) => h.revision === 'unchanged') ? 'unchanged' : 'changed';
}
