/**
 * The workspace file-system port in the editor (issue 7 §1, issue 9 §1): the engine reads files as the person sees
 * them (an open document's unsaved text) and applies an approved set through the extension, which checks every
 * file's guard against its current text and applies them in ONE `WorkspaceEdit` (one Undo reverts the set) and saves.
 *
 * The extension applies a set all or nothing: when a file's guard fails, nothing is applied and the answer marks the
 * conflicts. The others are then sent again on their own, so one file the person is editing never holds back the
 * rest, and is never overwritten.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { WorkspaceEdit, WorkspaceEditResult, WorkspaceFileState, WorkspaceFiles } from '../core/workspace-files.js';
import { ApplyWorkspaceEdit, ReadWorkspaceFiles } from '../protocol/lsp.js';

type Requester = Pick<Connection, 'sendRequest'>;

export class EditorWorkspaceFiles implements WorkspaceFiles {
  constructor(
    private readonly connection: Requester,
    private readonly folderUri: string,
  ) {}

  async read(paths: readonly string[]): Promise<WorkspaceFileState[]> {
    if (paths.length === 0) return [];
    const r = await this.connection.sendRequest(ReadWorkspaceFiles.type, { folderUri: this.folderUri, paths: [...paths] });
    const byPath = new Map(r.files.map((f) => [f.path, f]));
    // Only what was asked, in order: an answer for a path not asked about is ignored.
    return paths.map((p) => {
      const f = byPath.get(p);
      return f ? { path: p, content: f.content, sha256: f.sha256 } : { path: p, content: null, sha256: null, refused: 'The editor did not return this file.' };
    });
  }

  async apply(label: string, edits: readonly WorkspaceEdit[]): Promise<WorkspaceEditResult[]> {
    const results: (WorkspaceEditResult | undefined)[] = new Array(edits.length);
    let pending = edits.map((_, i) => i);
    // At most twice: the whole set, then the files that did not conflict.
    for (let round = 0; round < 2 && pending.length > 0; round++) {
      const answer = await this.connection.sendRequest(ApplyWorkspaceEdit.type, {
        folderUri: this.folderUri,
        label,
        edits: pending.map((i) => {
          const e = edits[i]!;
          return { path: e.path, kind: e.kind, expectedSha256: e.expectedSha256, content: e.content };
        }),
      });
      const conflicted = answer.results.some((r) => r.status === 'conflict');
      const next: number[] = [];
      pending.forEach((i, k) => {
        const r = answer.results[k];
        const path = edits[i]!.path;
        if (!r || r.path !== path) {
          results[i] = { path, status: 'failed', reason: 'The editor did not answer for this file; it may not have been written.' };
        } else if (r.status === 'failed' && conflicted && round === 0) {
          next.push(i);
        } else {
          results[i] = { path, status: r.status, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
        }
      });
      pending = next;
    }
    return results.map((r, i) => r ?? { path: edits[i]!.path, status: 'failed', reason: 'Not applied.' });
  }
}
