/**
 * The extension's side of the workspace file-system port, as a double for server tests: it holds unsaved buffers,
 * reads them for the server, and applies a set of edits all or nothing after checking each file's guard, as the
 * extension does with one WorkspaceEdit (src/protocol/lsp.ts: ReadWorkspaceFiles, ApplyWorkspaceEdit).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplyWorkspaceEdit, ReadWorkspaceFiles } from '../../src/protocol/lsp.js';
import type { ServerUnderTest } from './server-client.js';

export const sha = (t: string) => createHash('sha256').update(t).digest('hex');

/** The extension's side of the port, as a double: unsaved buffers over the disk; a set applies all or nothing. */
export class Editor {
  buffers = new Map<string, string>();
  applies: ApplyWorkspaceEdit.Params[] = [];
  reads = 0;
  read(folderUri: string, p: string): string | null {
    const buffered = this.buffers.get(p);
    if (buffered !== undefined) return buffered;
    const abs = join(fileURLToPath(folderUri), p);
    return existsSync(abs) ? readFileSync(abs, 'utf8') : null;
  }
  apply(params: ApplyWorkspaceEdit.Params): ApplyWorkspaceEdit.Result {
    this.applies.push(params);
    const checks = params.edits.map((e) => {
      const now = this.read(params.folderUri, e.path);
      return (now === null ? null : sha(now)) === e.expectedSha256 ? null : (now === null ? null : sha(now));
    });
    const clash = params.edits.map((e, i) => checks[i] !== null || (e.expectedSha256 !== null && this.read(params.folderUri, e.path) === null));
    if (clash.some(Boolean)) {
      return {
        results: params.edits.map((e, i) =>
          clash[i]
            ? { path: e.path, status: 'conflict' as const, reason: `${e.path} has unsaved or newer changes`, currentSha256: checks[i] ?? null }
            : { path: e.path, status: 'failed' as const, reason: 'not applied: another file conflicted' },
        ),
      };
    }
    for (const e of params.edits) {
      const abs = join(fileURLToPath(params.folderUri), e.path);
      if (e.content === null) rmSync(abs);
      else writeFileSync(abs, e.content);
    }
    return { results: params.edits.map((e) => ({ path: e.path, status: 'applied' as const })) };
  }
}

/** Serves the port's two requests from `editor`. */
export function serveEditorFiles(server: ServerUnderTest, editor: Editor): void {
  server.conn.onRequest(ApplyWorkspaceEdit.type, (p) => editor.apply(p));
  server.conn.onRequest(ReadWorkspaceFiles.type, (p) => {
    editor.reads++;
    return {
      files: p.paths.map((path) => {
        const content = editor.read(p.folderUri, path);
        return { path, content, sha256: content === null ? null : sha(content), dirty: editor.buffers.has(path) };
      }),
    };
  });
}
