/**
 * How a person's gesture on a file becomes the engine's decision, without VS Code (so it is unit-tested): an approval
 * of a file with dropped hunks keeps exactly the other hunks; dropping every hunk is a rejection; the file's line
 * comments and its comment go with whatever is decided.
 */
import type { ChangesetHunk, FileDecision, FileDecisionKind, LineComment } from '../../protocol/events.js';

export type FileChoice = Exclude<FileDecisionKind, 'keepHunks'>;

export interface Choice {
  binding: string;
  choice: FileChoice;
  /** A comment on this file, for the agent. */
  comment?: string;
}

/** What the editor holds about one file besides the choice. */
export interface FileDraft {
  hunks: readonly ChangesetHunk[];
  dropped: ReadonlySet<string>;
  lineComments: readonly LineComment[];
}

export function decisionFor({ binding, choice, comment }: Choice, draft: FileDraft): FileDecision {
  const base = { binding, ...(comment ? { comment } : {}), ...(draft.lineComments.length ? { lineComments: [...draft.lineComments] } : {}) };
  if (choice !== 'approve' || draft.dropped.size === 0 || draft.hunks.length === 0) return { ...base, decision: choice };
  const kept = draft.hunks.filter((h) => !draft.dropped.has(h.hunkId)).map((h) => h.hunkId);
  return kept.length ? { ...base, decision: 'keepHunks', hunkIds: kept } : { ...base, decision: 'reject' };
}
