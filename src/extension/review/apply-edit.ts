/**
 * The editor's half of writing an approved changeset (or a revert): the server asks, this applies. Every file is
 * checked first against the text the engine expects it to have now — the open document's text when it is open (so
 * a person's unsaved edit counts as a change), else the disk. If any file differs, nothing is applied and each
 * mismatch is a conflict: a person's edit is never overwritten. Otherwise every edit goes into ONE `WorkspaceEdit`
 * (one Undo reverts the whole set) and the files are saved.
 */
import * as vscode from 'vscode';
import { mapBounded } from '../../core/map-bounded.js';
import { sha256Hex } from '../../core/workspace-text.js';
import type { ApplyWorkspaceEdit, ReadWorkspaceFiles, WorkspaceFileEdit, WorkspaceFileEditResult } from '../../protocol/lsp.js';

interface Current {
  uri: vscode.Uri;
  /** Null: no such file. */
  text: string | null;
  dirty: boolean;
  document?: vscode.TextDocument;
}

function folderOf(folderUri: string): vscode.Uri {
  return vscode.Uri.parse(folderUri, true);
}

/** Paths come from the engine, which checked them; the editor still refuses one that leaves the folder. */
function fileUri(folder: vscode.Uri, path: string): vscode.Uri | undefined {
  const parts = path.split('/');
  if (parts.some((p) => p === '..' || p === '' || p === '.') || path.startsWith('/')) return undefined;
  return vscode.Uri.joinPath(folder, ...parts);
}

function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
}

/**
 * The documents open in the editor now, by URI: one pass over them for a whole set of files (`textDocuments` is a new
 * array of every open document each time it is read, so a lookup per file was quadratic in a large set).
 */
function openDocuments(): Map<string, vscode.TextDocument> {
  return new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
}

async function current(uri: vscode.Uri, open: Map<string, vscode.TextDocument>): Promise<Current> {
  const document = open.get(uri.toString());
  if (document && !document.isClosed) return { uri, text: document.getText(), dirty: document.isDirty, document };
  return { uri, text: await readText(uri), dirty: false };
}

/** The file's text on the disk; null when there is no such file (any other failure throws). */
async function readText(uri: vscode.Uri): Promise<string | null> {
  try {
    return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
  } catch (err) {
    if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') return null;
    throw err;
  }
}

export async function readWorkspaceFiles(p: ReadWorkspaceFiles.Params): Promise<ReadWorkspaceFiles.Result> {
  const folder = folderOf(p.folderUri);
  const open = openDocuments();
  const files = await Promise.all(
    p.paths.map(async (path) => {
      const uri = fileUri(folder, path);
      if (!uri) return { path, content: null, sha256: null, dirty: false };
      const c = await current(uri, open);
      return { path, content: c.text, sha256: c.text === null ? null : sha256Hex(c.text), dirty: c.dirty };
    }),
  );
  return { files };
}

function conflictReason(edit: WorkspaceFileEdit, now: Current): string {
  if (now.dirty) return 'it has unsaved changes in the editor; save or discard them, then ask again';
  if (now.text === null) return edit.expectedSha256 === null ? '' : 'it was deleted since the agent read it';
  if (edit.expectedSha256 === null) return 'it exists now, but the agent expected no file there';
  return 'it changed since the agent read it';
}

export async function applyWorkspaceEdit(p: ApplyWorkspaceEdit.Params): Promise<ApplyWorkspaceEdit.Result> {
  const folder = folderOf(p.folderUri);
  const open = openDocuments();
  const checked = await Promise.all(
    p.edits.map(async (edit) => {
      const uri = fileUri(folder, edit.path);
      if (!uri) return { edit, failure: { path: edit.path, status: 'failed', reason: 'the path leaves the workspace folder' } as WorkspaceFileEditResult };
      const now = await current(uri, open);
      const sha = now.text === null ? null : sha256Hex(now.text);
      if (sha !== edit.expectedSha256 || now.dirty) {
        return { edit, now, failure: { path: edit.path, status: 'conflict', reason: conflictReason(edit, now), currentSha256: sha } as WorkspaceFileEditResult };
      }
      return { edit, now };
    }),
  );
  if (checked.some((c) => c.failure)) {
    return {
      results: checked.map((c) => c.failure ?? { path: c.edit.path, status: 'failed', reason: 'not applied: another file conflicted' }),
    };
  }

  // Every document to edit is checked again, with no await between that check and building the edit, so what is
  // replaced is exactly the text just checked, and VS Code refuses the edit if a document changes before it applies.
  // Files not open in the editor are opened for that first, up to OPEN_AT_MOST of them. A larger set's closed files
  // are not opened (an open each was most of a large set's time, and VS Code lets go of documents past what it keeps
  // for an extension): the workbench loads them from the disk, where their text was just checked, and the edit
  // replaces the whole of each.
  const edited = checked.filter(({ edit, now }) => now && now.text !== null && edit.kind !== 'delete' && edit.content !== null);
  const openNow = openDocuments();
  const closed = edited.filter(({ now }) => !(now!.document ?? openNow.get(now!.uri.toString())));
  const opened = new Map<string, vscode.TextDocument>();
  if (closed.length <= OPEN_AT_MOST) {
    await mapBounded(closed, OPEN_AT_ONCE, async ({ edit, now }) => void opened.set(edit.path, await vscode.workspace.openTextDocument(now!.uri)));
  }
  // The closed files left unopened: their disk text checked once more, just before the edit.
  const onDiskNow = new Map<string, string | null>();
  if (closed.length > OPEN_AT_MOST) {
    await mapBounded(closed, SAVE_CHECKS, async ({ edit, now }) => void onDiskNow.set(edit.path, await onDisk(now!.uri)));
  }
  const documents = new Map<string, vscode.TextDocument>();
  const openAtEdit = openDocuments();
  for (const { edit, now } of edited) {
    const document = opened.get(edit.path) ?? now!.document ?? openAtEdit.get(now!.uri.toString());
    if (document && !document.isClosed) documents.set(edit.path, document);
  }
  // Each changed file's current text: a document's (unsaved edits count as a change), else the disk's.
  const late = new Map<string, string | null>();
  for (const { edit } of edited) {
    const d = documents.get(edit.path);
    if (d) {
      if (d.isDirty || sha256Hex(d.getText()) !== edit.expectedSha256) late.set(edit.path, sha256Hex(d.getText()));
    } else if (onDiskNow.has(edit.path)) {
      const text = onDiskNow.get(edit.path)!;
      const sha = text === null ? null : sha256Hex(text);
      if (sha !== edit.expectedSha256) late.set(edit.path, sha);
    }
  }
  if (late.size) {
    return {
      results: checked.map(({ edit }) =>
        late.has(edit.path)
          ? { path: edit.path, status: 'conflict', reason: 'it changed while Deputy was applying', currentSha256: late.get(edit.path)! }
          : { path: edit.path, status: 'failed', reason: 'not applied: another file conflicted' },
      ),
    };
  }
  const we = new vscode.WorkspaceEdit();
  const metadata: vscode.WorkspaceEditEntryMetadata = { label: p.label, needsConfirmation: false };
  const toSave: vscode.Uri[] = [];
  for (const { edit, now } of checked) {
    if (!now) continue;
    const document = documents.get(edit.path);
    if (edit.kind === 'delete' || edit.content === null) {
      we.deleteFile(now.uri, { ignoreIfNotExists: true }, metadata);
    } else if (now.text === null) {
      // Created empty and filled as a text edit, so the content is part of the same undo step as every other file.
      we.createFile(now.uri, { ignoreIfExists: false }, metadata);
      we.insert(now.uri, new vscode.Position(0, 0), edit.content, metadata);
      toSave.push(now.uri);
    } else if (!document) {
      we.replace(now.uri, WHOLE_TEXT, edit.content, metadata);
      toSave.push(now.uri);
    } else {
      we.replace(now.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), edit.content, metadata);
      toSave.push(now.uri);
    }
  }
  // As a refactoring, VS Code saves every file of the edit itself once it is applied (`files.refactoring.autoSave`, on
  // by default), all at once in the workbench rather than one save request per file from here. The only unsaved text
  // in these files is Deputy's (a file with unsaved edits was a conflict above), so that save takes nothing of the
  // person's. What it did not save (the setting off, a save that failed) is saved here, file by file.
  const ok = await vscode.workspace.applyEdit(we, { isRefactoring: true });
  if (!ok) return { results: p.edits.map((e) => ({ path: e.path, status: 'failed', reason: 'VS Code refused the edit' })) };
  const saving = new Set(toSave.map((u) => u.toString()));
  const results = await mapBounded(checked, SAVE_CHECKS, async ({ edit }): Promise<WorkspaceFileEditResult> => {
    const uri = fileUri(folder, edit.path)!;
    if (!saving.has(uri.toString()) || (await savedAlready(uri, edit.content!)) || (await saveEdited(uri, edit.content!))) return { path: edit.path, status: 'applied' };
    return { path: edit.path, status: 'failed', reason: 'applied in the editor but not saved' };
  });
  return { results };
}

/** The most files not open in the editor that an apply opens first (see applyWorkspaceEdit), and how many at once. */
const OPEN_AT_MOST = 50;
const OPEN_AT_ONCE = 8;

/** A range past any text's end: VS Code clamps it to the document's, so it covers the whole text however long. */
const WHOLE_TEXT = new vscode.Range(0, 0, 2 ** 31 - 1, 0);

/** Files checked (and saved when the workbench did not) at once after an apply. */
const SAVE_CHECKS = 16;

/**
 * The disk holds the approved text, or the document's when that is the approved text with the document's own line
 * ends: saved. The document's dirty flag here can lag behind the workbench's, so the disk decides.
 */
async function savedAlready(uri: vscode.Uri, content: string): Promise<boolean> {
  const disk = await onDisk(uri);
  if (disk === content) return true;
  const document = openDocument(uri);
  return document !== undefined && disk === document.getText() && sameLines(disk, content);
}

/** The same text but for its line ends (a document keeps one kind; the approved text may have another). */
function sameLines(a: string, b: string): boolean {
  return a.replace(/\r\n?/g, '\n') === b.replace(/\r\n?/g, '\n');
}

/**
 * Saves a document Deputy just edited. `save()` also answers false when the document was no longer dirty by the time
 * it ran (saved meanwhile, e.g. by another save of the same file) and when a save could not finish yet; the file on
 * disk decides which: saved means the disk holds the document's text and nothing is left unsaved. A few tries, then
 * "not saved" (the edit stays in the editor, undoable, and the person is told).
 */
async function saveEdited(uri: vscode.Uri, content: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const document = openDocument(uri) ?? (await vscode.workspace.openTextDocument(uri));
    if (await document.save()) return true;
    const disk = await onDisk(uri);
    if (!document.isDirty && disk !== null && disk === document.getText() && sameLines(disk, content)) return true;
    if (attempt === SAVE_ATTEMPTS) return false;
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

const SAVE_ATTEMPTS = 3;

/** The file's text on the disk, null when it cannot be read: a check after the fact, where unreadable is not saved. */
function onDisk(uri: vscode.Uri): Promise<string | null> {
  return readText(uri).catch(() => null);
}
