/**
 * The review model every changeset goes through (issue 9 §1, issue 7 §1), whether the agent proposed it with
 * `propose_changes` or it is the environment's shadow workspace difference: ONE question carrying every file, each
 * with its own binding, and one answer holding a decision per file. Nothing is applied before the whole set is
 * decided. This module turns the answer into what to apply and what to tell the agent; it never writes.
 */
import type {
  ChangesetFile,
  ChangesetHunk,
  FileDecision,
  FileDecisionKind,
  LineComment,
  RevisionMark,
} from '../../protocol/events.js';
import type { PreparedFile } from './types.js';
import { reviewHunks } from './hunks.js';

/** One file of the question. */
export interface ReviewItem {
  binding: string;
  file: PreparedFile;
  /** The selectable hunks of a ready file (`reviewHunks`); empty otherwise. */
  hunks: ChangesetHunk[];
  /** From round 2 on: against the previous round. */
  revision?: RevisionMark;
}

export interface ChangesetReviewQuestion {
  session: string;
  /** The tool call (or review) this changeset belongs to; unique in the session. */
  callId: string;
  changesetId: string;
  /** Agent-made. */
  summary: string;
  source: 'proposeChanges' | 'environment';
  round: number;
  previousChangesetId?: string;
  /** Every file, ready or not: conflicts can be answered with `redo`. */
  items: ReviewItem[];
}

export interface ChangesetReviewAnswer {
  decisions: FileDecision[];
  /** A general comment on the whole changeset, for the agent. */
  comment?: string;
}

/** What the engine makes of one file's decision, after checking it against the question. */
export interface Decided {
  item: ReviewItem;
  decision: FileDecisionKind;
  /** For keepHunks: the kept ids (all known to the file). */
  keep?: Set<string>;
  comment?: string;
  lineComments?: LineComment[];
  /** Set when the answer was not taken as given (wrong binding, unknown hunk, `redo` on a file not in conflict). */
  note?: string;
}

/**
 * Checks an answer against its question: a decision counts only for a file of this question with the same binding;
 * a file without a valid decision is rejected (never approved by default). Returns one `Decided` per item, in order.
 */
export function decideAll(question: ChangesetReviewQuestion, answer: ChangesetReviewAnswer): Decided[] {
  const byBinding = new Map<string, FileDecision>();
  for (const d of answer.decisions) if (!byBinding.has(d.binding)) byBinding.set(d.binding, d);
  return question.items.map((item): Decided => {
    const d = byBinding.get(item.binding);
    const extras = {
      ...(d?.comment?.trim() ? { comment: d.comment.trim() } : {}),
      ...(d?.lineComments && d.lineComments.length > 0 ? { lineComments: d.lineComments } : {}),
    };
    if (!d) return { item, decision: 'reject', note: 'no decision bound to this file; treated as reject' };
    const ready = item.file.status === 'ready';
    switch (d.decision) {
      case 'approve':
      case 'reject':
      case 'requestChanges':
        if (!ready && d.decision === 'approve') return { item, decision: 'reject', ...extras, note: `the file is ${item.file.status}; it cannot be approved` };
        return { item, decision: d.decision, ...extras };
      case 'redo':
        if (item.file.status !== 'conflict') return { item, decision: 'reject', ...extras, note: 'redo applies only to a file in conflict; treated as reject' };
        return { item, decision: 'redo', ...extras };
      case 'keepHunks': {
        if (!ready) return { item, decision: 'reject', ...extras, note: `the file is ${item.file.status}; no hunk can be kept` };
        const known = new Set(item.hunks.map((h) => h.hunkId));
        const ids = d.hunkIds ?? [];
        const unknown = ids.filter((id) => !known.has(id));
        if (unknown.length > 0) return { item, decision: 'reject', ...extras, note: `unknown hunk ${unknown[0]}; treated as reject` };
        if (ids.length === 0) return { item, decision: 'reject', ...extras };
        const keep = new Set(ids);
        // A create or delete is one piece: keeping all of it is approving it.
        if (item.file.operation !== 'update') {
          return keep.size === known.size ? { item, decision: 'approve', ...extras } : { item, decision: 'reject', ...extras, note: 'a create or delete is kept whole or not at all' };
        }
        return { item, decision: 'keepHunks', keep, ...extras };
      }
    }
  });
}

/** A file-by-file review, for front ends that ask one file at a time (the CLI's terminal). */
export type FileByFile = (item: ReviewItem, index: number, total: number) => Promise<FileDecision>;

/**
 * The whole-changeset question answered one ready file at a time, in order: the CLI's terminal flow on top of the
 * review model. Files that are not ready get no question (they are reported as they are).
 */
export async function answerFileByFile(question: ChangesetReviewQuestion, ask: FileByFile): Promise<ChangesetReviewAnswer> {
  const ready = question.items.filter((i) => i.file.status === 'ready');
  const decisions: FileDecision[] = [];
  for (const [i, item] of ready.entries()) decisions.push(await ask(item, i + 1, ready.length));
  return { decisions };
}

/** The items of a prepared changeset, with their hunks. */
export function reviewItems(files: readonly PreparedFile[], bindingOf: (file: PreparedFile) => string): ReviewItem[] {
  return files.map((file) => ({ binding: bindingOf(file), file, hunks: reviewHunks(file) }));
}

/**
 * A prepared file as the reviewer sees it (the `changeset.proposed` event's file): one shape for the engine's event
 * and the server's card, which adds the proposal's hash, hunks, round marks and conflict.
 */
export function changesetFileOf(binding: string, f: PreparedFile): ChangesetFile {
  return {
    binding,
    path: f.path,
    ...(f.realPath ? { realPath: f.realPath } : {}),
    operation: f.operation,
    state: f.status,
    ...(f.reason ? { reason: f.reason } : {}),
    added: f.stats.added,
    removed: f.stats.removed,
    diff: f.displayDiff,
    ...(f.rationale ? { rationale: f.rationale } : {}),
    baseSha256: f.baseSha256,
  };
}
