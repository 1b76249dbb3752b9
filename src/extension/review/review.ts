/**
 * The editor's side of reviewing a changeset, in one object the extension's context holds: the read-only documents,
 * the drafts (hunks dropped, files marked reviewed) and the line comments. Its `onDidChange` tells every view (the
 * panel's card, the hunk lenses, the tree) to draw again.
 */
import * as vscode from 'vscode';
import type { FileReviewDraft } from '../../protocol/webview.js';
import type { OpenChangeset } from '../client-state.js';
import { ReviewComments } from './comments.js';
import { ReviewDrafts } from './drafts.js';
import { ProposedContent, type FetchProposed } from './proposed-content.js';

export class Review implements vscode.Disposable {
  readonly content: ProposedContent;
  readonly drafts = new ReviewDrafts();
  readonly comments = new ReviewComments();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(fetch: FetchProposed) {
    this.content = new ProposedContent(fetch);
    this.subscriptions = [this.drafts.onDidChange(() => this.changed.fire()), this.comments.onDidChange(() => this.changed.fire())];
  }

  /** The drafts of every file of these changesets, as the panel shows them. */
  draftsOf(changesets: Iterable<OpenChangeset>): Record<string, FileReviewDraft> {
    const out: Record<string, FileReviewDraft> = {};
    for (const c of changesets) {
      for (const f of c.files) {
        const draft = { dropped: this.drafts.droppedOf(f.binding), reviewed: this.drafts.isReviewed(c.sessionId, f), lineComments: this.comments.count(f.binding) };
        if (draft.dropped.length || draft.reviewed || draft.lineComments) out[f.binding] = draft;
      }
    }
    return out;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.content.dispose();
    this.drafts.dispose();
    this.comments.dispose();
    this.changed.dispose();
  }
}
