/**
 * "Open diff" for a proposed file: VS Code's diff editor between the file now and after the change, both read-only
 * documents of the `deputy-proposed` scheme served from memory. The full diff-editor review comes with the review
 * issue; this shows exactly what the card shows.
 */
import * as vscode from 'vscode';
import { ProposedFile, isFailure } from '../protocol/lsp.js';
import type { Deputy } from './deputy.js';

export const PROPOSED_SCHEME = 'deputy-proposed';

export class ProposedContent implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  /** At most this many documents are kept; the oldest go first. */
  private static readonly MAX = 50;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  put(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    while (this.texts.size > ProposedContent.MAX) this.texts.delete(this.texts.keys().next().value as string);
  }
}

export async function openProposedDiff(deputy: Deputy, sessionId: string, changesetId: string, binding: string): Promise<void> {
  const r = await deputy.request(ProposedFile.type, { sessionId, changesetId, binding });
  if (isFailure(r)) {
    await deputy.showFailure(r);
    return;
  }
  const provider = deputy.proposed;
  const left = vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: `/${r.path}`, query: `before=${binding}` });
  const right = vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: `/${r.path}`, query: `after=${binding}` });
  provider.put(left, r.before);
  provider.put(right, r.after);
  await vscode.commands.executeCommand('vscode.diff', left, right, `${r.path} (proposed by the agent)`, { preview: true });
}
