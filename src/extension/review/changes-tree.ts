/**
 * The "Changes" view: every changeset still waiting for a person, across sessions and folders, as the server lists
 * them; each changeset with its files, inline actions on both, and a badge counting the changesets. The server's
 * `deputy/changesetsChanged` keeps it current; nothing is computed here.
 */
import * as vscode from 'vscode';
import { visibleLine } from '../../core/visible-text.js';
import type { PendingChangeset } from '../../protocol/lsp.js';
import type { Deputy } from '../deputy.js';

import { CHANGES_VIEW_ID } from '../manifest-ids.js';

type Node = { kind: 'changeset'; changeset: PendingChangeset } | { kind: 'file'; changeset: PendingChangeset; file: PendingChangeset['files'][number] };

export class ChangesTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private view: vscode.TreeView<Node> | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly deputy: Deputy) {
    this.subscriptions = [deputy.state.onPendingChanged(() => this.refresh()), deputy.review.onDidChange(() => this.changed.fire(undefined))];
  }

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
    this.refresh();
  }

  private refresh(): void {
    this.changed.fire(undefined);
    if (!this.view) return;
    const n = this.deputy.state.pending.length;
    this.view.badge = n ? { value: n, tooltip: `${n} changeset${n === 1 ? '' : 's'} waiting for your review` } : undefined;
    this.view.message = n ? '' : 'No changes are waiting for your review.';
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.deputy.state.pending.map((changeset) => ({ kind: 'changeset', changeset }));
    if (node.kind === 'changeset') return node.changeset.files.map((file) => ({ kind: 'file', changeset: node.changeset, file }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'changeset') {
      const c = node.changeset;
      const open = c.files.filter((f) => !f.decided && f.state !== 'invalid').length;
      const item = new vscode.TreeItem(visibleLine(c.summary || c.task).slice(0, 120), vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${c.folder} · ${open} of ${c.files.length} to review${c.round > 1 ? ` · round ${c.round}` : ''}`;
      item.tooltip = new vscode.MarkdownString().appendText(`Task: ${visibleLine(c.task)}\n${visibleLine(c.summary)}\nDecide by ${c.deadline}`);
      item.contextValue = 'changeset';
      item.iconPath = new vscode.ThemeIcon('git-pull-request');
      item.id = `${c.sessionId}/${c.changesetId}`;
      return item;
    }
    const { changeset: c, file: f } = node;
    const item = new vscode.TreeItem(visibleLine(f.path), vscode.TreeItemCollapsibleState.None);
    const reviewed = this.deputy.state.fileOf(f.binding);
    const marked = reviewed && this.deputy.review.drafts.isReviewed(c.sessionId, reviewed.file) ? ' · reviewed' : '';
    item.description = `+${f.added} −${f.removed}${f.decided ? ' · decided' : f.state !== 'ready' ? ` · ${f.state}` : ''}${marked}`;
    item.contextValue = f.decided ? 'file-decided' : f.state === 'conflict' ? 'file-conflict' : f.state === 'ready' ? 'file' : 'file-invalid';
    item.iconPath = new vscode.ThemeIcon(f.state === 'conflict' ? 'warning' : f.decided ? 'check' : 'diff');
    item.id = `${c.sessionId}/${c.changesetId}/${f.binding}`;
    if (f.state !== 'invalid') item.command = { command: 'deputy.review.openDiff', title: 'Open diff', arguments: [c.sessionId, c.changesetId, f.binding] };
    return item;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

export function registerChangesTree(deputy: Deputy): vscode.Disposable {
  const tree = new ChangesTree(deputy);
  const view = vscode.window.createTreeView(CHANGES_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  tree.attach(view);
  return vscode.Disposable.from(tree, view);
}

/** Tree inline actions receive the node; commands from elsewhere receive ids. */
export function nodeIds(arg: unknown): { sessionId: string; changesetId: string; binding?: string } | undefined {
  if (typeof arg !== 'object' || arg === null || !('changeset' in arg)) return undefined;
  const n = arg as Node;
  return { sessionId: n.changeset.sessionId, changesetId: n.changeset.changesetId, ...(n.kind === 'file' ? { binding: n.file.binding } : {}) };
}
