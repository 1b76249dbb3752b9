/**
 * The workspace file-system port (issue 7 §1): how the engine reads the files it is about to change and writes an
 * approved set, without knowing who holds them. The CLI's implementation is the disk (`DiskWorkspaceFiles`); the
 * language server's asks the editor, which reads unsaved buffers and applies the set as one `WorkspaceEdit`, so one
 * Undo reverts it (src/server/editor-files.ts).
 *
 * Every edit is guarded: it names the SHA-256 of the text the file must have now, and a file that has anything else
 * is a conflict and is not written. That guard is what keeps a person's own edits from ever being overwritten.
 */
import { applyPreparedFiles } from './changeset/apply.js';
import { readCurrent } from './changeset/prepare.js';
import type { PreparedFile } from './changeset/types.js';
import type { Workspace } from './workspace.js';
import { WorkspaceError } from './workspace-error.js';
import { MAX_TEXT_FILE_BYTES } from './workspace-text.js';

/** A file as the port sees it now. */
export interface WorkspaceFileState {
  path: string;
  /** The text; null when the file does not exist, or is not a text file Deputy can edit. */
  content: string | null;
  /** SHA-256 of the UTF-8 text; null when missing or unreadable. */
  sha256: string | null;
  /** Why it could not be read as text, when it exists but `content` is null. */
  refused?: string;
}

/** One guarded edit: the whole new content of one file. */
export interface WorkspaceEdit {
  /** Relative to the workspace root, `/`-separated. */
  path: string;
  kind: 'create' | 'update' | 'delete';
  /** SHA-256 of the text the file must have now; null: it must not exist. */
  expectedSha256: string | null;
  /** The text the file has now as the engine knows it (the expected text), null for a create. */
  before: string | null;
  /** The new text; null for a delete. */
  content: string | null;
}

export interface WorkspaceEditResult {
  path: string;
  status: 'applied' | 'conflict' | 'failed';
  reason?: string;
}

export interface WorkspaceFiles {
  /** Reads files as the person sees them now. */
  read(paths: readonly string[]): Promise<WorkspaceFileState[]>;
  /**
   * Applies every edit whose guard holds; the others are `conflict` and untouched. `label` names the set for a
   * person (the editor's Undo entry). Results are in the order given.
   */
  apply(label: string, edits: readonly WorkspaceEdit[]): Promise<WorkspaceEditResult[]>;
}

/** The disk: reads through the workspace's checks, writes through the changeset applier (atomic, in parallel). */
export class DiskWorkspaceFiles implements WorkspaceFiles {
  constructor(private readonly ws: Workspace) {}

  async read(paths: readonly string[]): Promise<WorkspaceFileState[]> {
    return Promise.all(
      paths.map(async (p): Promise<WorkspaceFileState> => {
        let abs: string;
        try {
          abs = (await this.ws.resolve(p)).abs;
        } catch (err) {
          if (err instanceof WorkspaceError) return { path: p, content: null, sha256: null, refused: err.message };
          throw err;
        }
        const current = await readCurrent(abs, p, MAX_TEXT_FILE_BYTES);
        if (current.kind === 'missing') return { path: p, content: null, sha256: null };
        if (current.kind === 'refused') return { path: p, content: null, sha256: null, refused: current.reason };
        return { path: p, content: current.content, sha256: current.sha256 };
      }),
    );
  }

  async apply(_label: string, edits: readonly WorkspaceEdit[]): Promise<WorkspaceEditResult[]> {
    const files: PreparedFile[] = edits.map((e) => ({
      path: e.path,
      operation: e.kind,
      status: 'ready',
      before: e.before,
      after: e.content,
      baseSha256: e.expectedSha256,
      displayDiff: '',
      stats: { added: 0, removed: 0 },
    }));
    const results = await applyPreparedFiles(this.ws, files, { errorsAsResults: true });
    return results.map((r) => ({
      path: r.path,
      status: r.status === 'applied' ? 'applied' : r.status === 'conflict' ? 'conflict' : 'failed',
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    }));
  }
}
