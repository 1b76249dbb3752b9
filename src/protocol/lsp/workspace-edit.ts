/**
 * The workspace file-system port in the editor (src/protocol/lsp.ts): the server reads files as the person sees them
 * and applies approved changes through one `WorkspaceEdit`.
 */
import { RequestType } from 'vscode-jsonrpc';

/** One file edit of `ApplyWorkspaceEdit`: the whole new content of one file, guarded by what it must be now. */
export interface WorkspaceFileEdit {
  /** Relative to the folder, `/`-separated. */
  path: string;
  kind: 'create' | 'update' | 'delete';
  /** SHA-256 (UTF-8) of the text the file must have now (open buffer or disk); null: the file must not exist. */
  expectedSha256: string | null;
  /** The new text; null for a delete. */
  content: string | null;
}

/** What happened to one edit. */
export interface WorkspaceFileEditResult {
  path: string;
  status: 'applied' | 'conflict' | 'failed';
  /** For conflict/failed: worded for a person. */
  reason?: string;
  /** For conflict: the SHA-256 of the text the file has now (null: missing). */
  currentSha256?: string | null;
}

export namespace ApplyWorkspaceEdit {
  export const method = 'deputy/applyWorkspaceEdit' as const;
  /**
   * Sent by the server (the workspace file-system port in the editor) to write an approved changeset or a revert:
   * the client checks every file's current text (its unsaved buffer when open) against `expectedSha256`; when all
   * match it applies every edit in ONE `WorkspaceEdit` (labelled `label`, so one Undo reverts the set) and saves the
   * files; when any differs it applies nothing and answers each file's status (`conflict` for the mismatches,
   * `failed` with reason "not applied: another file conflicted" for the rest), so the server can report and retry
   * the others. Never overwrites a person's unsaved edit.
   */
  export interface Params {
    folderUri: string;
    label: string;
    edits: WorkspaceFileEdit[];
  }
  export interface Result {
    results: WorkspaceFileEditResult[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ReadWorkspaceFiles {
  export const method = 'deputy/readWorkspaceFiles' as const;
  /**
   * Sent by the server (the workspace file-system port) to read files as the person sees them: an open document's
   * unsaved text, else the disk. Used to re-anchor kept hunks and to check for conflicts before an apply.
   */
  export interface Params {
    folderUri: string;
    paths: string[];
  }
  export interface Result {
    files: { path: string; content: string | null; sha256: string | null; dirty: boolean }[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}
