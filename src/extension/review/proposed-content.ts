/**
 * The text of the review's read-only documents (`deputy-proposed:`), asked from the server on demand (only the files
 * a person opens are fetched) and kept for the documents still open. A document whose proposal is gone (decided,
 * withdrawn) says so instead of showing stale text.
 */
import * as vscode from 'vscode';
import type { ProposedFile } from '../../protocol/lsp.js';
import { isFailure } from '../../protocol/lsp.js';
import { parseProposedUri, type ProposedRef } from './uris.js';

export type FetchProposed = (ref: ProposedRef) => Promise<ProposedFile.Result>;

export class ProposedContent implements vscode.TextDocumentContentProvider, vscode.Disposable {
  /** By binding: the texts of one proposed file. At most `MAX` are kept; the oldest go first. */
  private readonly texts = new Map<string, { before: string; after: string }>();
  private static readonly MAX = 200;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly fetch: FetchProposed) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = parseProposedUri(uri);
    if (!ref) return '';
    const known = this.texts.get(ref.binding) ?? (await this.load(ref));
    if (!known) return `This proposal of ${ref.path} is no longer open for review.`;
    return ref.side === 'proposed' ? known.after : known.before;
  }

  /** Texts the caller already has (a conflict's versions), so opening them costs no round trip. */
  put(binding: string, texts: { before: string; after: string }): void {
    this.texts.set(binding, texts);
    while (this.texts.size > ProposedContent.MAX) this.texts.delete(this.texts.keys().next().value as string);
  }

  async load(ref: ProposedRef): Promise<{ before: string; after: string } | undefined> {
    const r = await this.fetch(ref);
    if (isFailure(r)) return undefined;
    const texts = { before: r.before, after: r.after };
    this.put(ref.binding, texts);
    return texts;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
