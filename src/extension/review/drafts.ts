/**
 * A person's review of each open file so far, in one place for every view of it (the panel's card, the hunk lenses
 * and title actions of the diff editor, the "Changes" tree): which hunks they dropped, and which files they marked
 * reviewed. Nothing here reaches the engine until a decision is sent (see decide.ts).
 *
 * A "reviewed" mark belongs to a file's exact proposal (its path and the SHA-256 of the proposed text): a revision
 * with the same text keeps it, a changed proposal clears it.
 */
import * as vscode from 'vscode';
import type { ChangesetFile } from '../../protocol/events.js';

export class ReviewDrafts implements vscode.Disposable {
  /** binding → hunk ids dropped. */
  private readonly dropped = new Map<string, Set<string>>();
  /** `${sessionId}\0${path}` → the proposal that was marked reviewed. */
  private readonly reviewed = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  chooseHunk(binding: string, hunkId: string, keep: boolean): void {
    let set = this.dropped.get(binding);
    if (!set) this.dropped.set(binding, (set = new Set()));
    if (keep) set.delete(hunkId);
    else set.add(hunkId);
    if (set.size === 0) this.dropped.delete(binding);
    this.changed.fire();
  }

  isDropped(binding: string, hunkId: string): boolean {
    return this.dropped.get(binding)?.has(hunkId) ?? false;
  }

  droppedOf(binding: string): string[] {
    return [...(this.dropped.get(binding) ?? [])];
  }

  markReviewed(sessionId: string, file: ChangesetFile, reviewed: boolean): void {
    const key = `${sessionId}\0${file.path}`;
    if (reviewed) this.reviewed.set(key, proposalKey(file));
    else this.reviewed.delete(key);
    this.changed.fire();
  }

  isReviewed(sessionId: string, file: ChangesetFile): boolean {
    return this.reviewed.get(`${sessionId}\0${file.path}`) === proposalKey(file);
  }

  /** A decision for this file was sent and taken: its hunk choices are spent. */
  forget(binding: string): void {
    if (this.dropped.delete(binding)) this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The proposal's identity: its content hash when the engine gives one, else its binding (new every round). */
function proposalKey(file: ChangesetFile): string {
  return file.proposalSha256 ?? file.binding;
}
