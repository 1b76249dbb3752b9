/**
 * Keep / Drop per hunk, as code lenses above each hunk of the proposed document (the right side of the diff editor,
 * where `diffEditor.codeLens` shows them; Deputy turns that on by default, or open the proposed document alone).
 * A choice changes the draft only; what is applied is decided when the person approves the file.
 */
import * as vscode from 'vscode';
import type { Deputy } from '../deputy.js';
import { PROPOSED_SCHEME, parseProposedUri } from './uris.js';

export class HunkLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly deputy: Deputy) {
    // Only what changes a lens redraws them: a draft, or a changeset event (a session's streaming text must not, or
    // the lenses would be rebuilt under the person's pointer all the time).
    this.subscriptions = [
      deputy.review.onDidChange(() => this.changed.fire()),
      deputy.state.onEvents(({ events }) => {
        if (events.some((e) => e.type.startsWith('changeset.'))) this.changed.fire();
      }),
    ];
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const ref = parseProposedUri(document.uri);
    if (!ref || ref.side !== 'proposed' || !this.deputy.state.isOpen(ref.binding)) return [];
    const found = this.deputy.state.fileOf(ref.binding);
    const hunks = found?.file.hunks ?? [];
    const { drafts } = this.deputy.review;
    return hunks.flatMap((h, i) => {
      const line = Math.min(Math.max(h.newStart - 1, 0), Math.max(document.lineCount - 1, 0));
      const range = new vscode.Range(line, 0, line, 0);
      const dropped = drafts.isDropped(ref.binding, h.hunkId);
      const args = [ref.binding, h.hunkId];
      return [
        new vscode.CodeLens(range, { title: `Hunk ${i + 1} of ${hunks.length}: ${dropped ? 'dropped' : 'kept'}`, command: '' }),
        dropped
          ? new vscode.CodeLens(range, { title: 'Keep', tooltip: 'Apply this hunk when the file is approved', command: 'deputy.review.keepHunk', arguments: args })
          : new vscode.CodeLens(range, { title: 'Drop', tooltip: 'Leave this hunk out when the file is approved', command: 'deputy.review.dropHunk', arguments: args }),
      ];
    });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

export function registerHunkLenses(deputy: Deputy): vscode.Disposable {
  const lenses = new HunkLenses(deputy);
  return vscode.Disposable.from(lenses, vscode.languages.registerCodeLensProvider({ scheme: PROPOSED_SCHEME }, lenses));
}
