/**
 * Turns a person's gesture on files (a card button, a diff editor's title action, the tree's inline action) into the
 * engine's decisions: an approval of a file whose hunks were partly dropped becomes "keep these hunks"; the file's
 * line comments go with whatever is decided. One request per gesture, bound to each file's binding; what the engine
 * refuses is said, not hidden.
 */
import * as vscode from 'vscode';
import type { FileDecision, FileDecisionKind } from '../../protocol/events.js';
import { ReviewChangeset } from '../../protocol/lsp.js';
import type { Deputy } from '../deputy.js';

export type FileChoice = Exclude<FileDecisionKind, 'keepHunks'>;

export interface Choice {
  binding: string;
  choice: FileChoice;
  /** A comment on this file, for the agent. */
  comment?: string;
}

/** The decisions to send for these choices, with the drafts and comments of each file folded in. */
export function decisionsFor(deputy: Deputy, choices: Choice[]): FileDecision[] {
  const { drafts, comments } = deputy.review;
  return choices.map(({ binding, choice, comment }) => {
    const lineComments = comments.of(binding);
    const dropped = new Set(drafts.droppedOf(binding));
    const hunks = deputy.state.fileOf(binding)?.file.hunks ?? [];
    const base = { binding, ...(comment ? { comment } : {}), ...(lineComments.length ? { lineComments } : {}) };
    if (choice === 'approve' && dropped.size > 0 && hunks.length > 0) {
      return { ...base, decision: 'keepHunks', hunkIds: hunks.filter((h) => !dropped.has(h.hunkId)).map((h) => h.hunkId) };
    }
    return { ...base, decision: choice };
  });
}

/** Sends the decisions; returns the bindings the engine took (their drafts and comments are spent). */
export async function decide(
  deputy: Deputy,
  sessionId: string,
  changesetId: string,
  choices: Choice[],
  opts: { rest?: ReviewChangeset.Params['rest']; comment?: string } = {},
): Promise<ReviewChangeset.Result> {
  const r = await deputy.request(ReviewChangeset.type, {
    sessionId,
    changesetId,
    files: decisionsFor(deputy, choices),
    ...(opts.rest ? { rest: opts.rest } : {}),
    ...(opts.comment ? { comment: opts.comment } : {}),
  });
  for (const binding of r.accepted) {
    deputy.review.drafts.forget(binding);
    deputy.review.comments.clear(binding);
  }
  if (r.refused.length) {
    const why = r.refused.map((x) => `${deputy.state.fileOf(x.binding)?.file.path ?? 'a file'}: ${x.reason}`).join('; ');
    void vscode.window.showWarningMessage(`Deputy did not take ${r.refused.length === 1 ? 'that decision' : `${r.refused.length} decisions`}: ${why}`);
  }
  return r;
}
