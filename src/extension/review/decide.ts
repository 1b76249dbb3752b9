/**
 * Turns a person's gesture on files (a card button, a diff editor's title action, the tree's inline action) into the
 * engine's decisions: an approval of a file whose hunks were partly dropped becomes "keep these hunks"; the file's
 * line comments go with whatever is decided. One request per gesture, bound to each file's binding; what the engine
 * refuses is said, not hidden.
 */
import * as vscode from 'vscode';
import type { FileDecision } from '../../protocol/events.js';
import { ReviewChangeset } from '../../protocol/lsp.js';
import type { Deputy } from '../deputy.js';
import { decisionFor, type Choice } from './decisions.js';

export type { Choice, FileChoice } from './decisions.js';

/** The decisions to send for these choices, with the drafts and comments of each file folded in. */
export function decisionsFor(deputy: Deputy, choices: Choice[]): FileDecision[] {
  const { drafts, comments } = deputy.review;
  return choices.map((c) =>
    decisionFor(c, {
      hunks: deputy.state.fileOf(c.binding)?.file.hunks ?? [],
      dropped: new Set(drafts.droppedOf(c.binding)),
      lineComments: comments.of(c.binding),
    }),
  );
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
