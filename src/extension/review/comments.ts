/**
 * Line comments on a proposed file, through VS Code's Comments API on the proposed (right-hand) document of the diff
 * editor. They stay here, in the editor, until the person decides the file; then they travel with the decision to the
 * engine (and on to the agent) and are cleared. The person's text is theirs: it is never rendered as Markdown that
 * could run anything, only shown.
 */
import * as vscode from 'vscode';
import type { LineComment } from '../../protocol/events.js';
import { PROPOSED_SCHEME, parseProposedUri } from './uris.js';

export const COMMENT_CONTROLLER_ID = 'deputy.review';

export class ReviewComments implements vscode.Disposable {
  private readonly controller: vscode.CommentController;
  /** Each thread with the texts exactly as typed (the shown comments are escaped Markdown). */
  private readonly threads = new Map<vscode.CommentThread, string[]>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor() {
    this.controller = vscode.comments.createCommentController(COMMENT_CONTROLLER_ID, 'Deputy review');
    this.controller.options = { prompt: 'Comment for the agent', placeHolder: 'What should change here?' };
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: (document) => {
        const ref = parseProposedUri(document.uri);
        if (document.uri.scheme !== PROPOSED_SCHEME || ref?.side !== 'proposed') return [];
        return [new vscode.Range(0, 0, Math.max(0, document.lineCount - 1), 0)];
      },
    };
  }

  /** The comment thread's "Add comment" button (`comments/commentThread/context`). */
  add(reply: vscode.CommentReply): void {
    const text = reply.text.trim();
    if (!text) return;
    const thread = reply.thread;
    this.threads.set(thread, [...(this.threads.get(thread) ?? []), text]);
    thread.comments = [...thread.comments, { body: new vscode.MarkdownString().appendText(text), mode: vscode.CommentMode.Preview, author: { name: 'You' } }];
    thread.canReply = true;
    thread.label = 'For the agent';
    this.changed.fire();
  }

  /** Deletes a thread (its title action). */
  remove(thread: vscode.CommentThread): void {
    this.threads.delete(thread);
    thread.dispose();
    this.changed.fire();
  }

  /** Every comment waiting on one file, as the engine takes them. */
  of(binding: string): LineComment[] {
    const out: LineComment[] = [];
    for (const [t, texts] of this.threads) {
      if (parseProposedUri(t.uri)?.binding !== binding || !t.range) continue;
      for (const text of texts) out.push({ line: t.range.start.line + 1, side: 'proposed', text });
    }
    return out.sort((a, b) => a.line - b.line);
  }

  count(binding: string): number {
    return this.of(binding).length;
  }

  /** The file was decided (the comments went with it) or is gone. */
  clear(binding: string): void {
    let removed = false;
    for (const t of [...this.threads.keys()]) {
      if (parseProposedUri(t.uri)?.binding !== binding) continue;
      this.threads.delete(t);
      t.dispose();
      removed = true;
    }
    if (removed) this.changed.fire();
  }

  dispose(): void {
    for (const t of this.threads.keys()) t.dispose();
    this.controller.dispose();
    this.changed.dispose();
  }
}
