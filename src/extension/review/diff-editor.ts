/**
 * "Open diff": VS Code's own diff editor, left the file as it is now in the workspace (the person's unsaved edits
 * included, since it is their document), right the agent's proposal as a read-only `deputy-proposed:` document. A
 * created file has an empty left side; a deleted file an empty right side. The whole changeset opens in the
 * multi-file diff editor (`vscode.changes`). The review's title actions, hunk lenses and comments live on the right.
 */
import * as vscode from 'vscode';
import { visibleLine } from '../../core/visible-text.js';
import type { ChangesetFile } from '../../protocol/events.js';
import { ConflictVersions, isFailure } from '../../protocol/lsp.js';
import type { OpenChangeset } from '../client-state.js';
import type { Deputy } from '../deputy.js';
import { proposedUri } from './uris.js';

/** The workspace file a session's relative path names (the session's folder; the first folder otherwise). */
export function workspaceUri(deputy: Deputy, sessionId: string, path: string): vscode.Uri | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const name = deputy.state.sessions.find((s) => s.sessionId === sessionId)?.folder;
  const folder = folders.find((f) => f.name === name) ?? folders[0];
  return folder ? vscode.Uri.joinPath(folder.uri, ...path.split('/')) : undefined;
}

function sides(deputy: Deputy, changeset: OpenChangeset, file: ChangesetFile): { left: vscode.Uri; right: vscode.Uri; resource: vscode.Uri } {
  const ref = { sessionId: changeset.sessionId, changesetId: changeset.changesetId, binding: file.binding, path: file.path };
  const base = proposedUri({ ...ref, side: 'base' });
  const right = proposedUri({ ...ref, side: 'proposed' });
  const real = workspaceUri(deputy, changeset.sessionId, file.path);
  const left = file.operation === 'create' || !real ? base : real;
  return { left, right, resource: real ?? right };
}

function title(file: ChangesetFile): string {
  return `${visibleLine(file.path)} (now ↔ proposed by the agent)`;
}

export async function openFileDiff(deputy: Deputy, sessionId: string, changesetId: string, binding: string): Promise<void> {
  const found = fileFor(deputy, sessionId, changesetId, binding);
  if (!found) {
    void vscode.window.showInformationMessage('That proposed file is no longer open for review.');
    return;
  }
  const { left, right } = sides(deputy, found.changeset, found.file);
  await vscode.commands.executeCommand('vscode.diff', left, right, title(found.file), { preview: false });
}

/**
 * The file from this window's events, or else from the server's pending list (a changeset of a session this window
 * has not shown since it reloaded): enough to open its diff, whose texts come from the server anyway.
 */
function fileFor(deputy: Deputy, sessionId: string, changesetId: string, binding: string): { changeset: OpenChangeset; file: ChangesetFile } | undefined {
  const found = deputy.state.fileOf(binding);
  if (found) return found.changeset.sessionId === sessionId && found.changeset.changesetId === changesetId ? found : undefined;
  const pending = deputy.state.pending.find((c) => c.sessionId === sessionId && c.changesetId === changesetId);
  const f = pending?.files.find((x) => x.binding === binding);
  if (!pending || !f) return undefined;
  const file: ChangesetFile = { binding, path: f.path, operation: 'update', state: f.state, added: f.added, removed: f.removed, diff: '' };
  const changeset = { type: 'changeset.proposed', sessionId, seq: 0, at: '', changesetId, summary: pending.summary, files: [file] } as OpenChangeset;
  return { changeset, file };
}

/** Every reviewable file of the changeset in the multi-file diff editor. */
export async function openChangesetDiff(deputy: Deputy, sessionId: string, changesetId: string): Promise<void> {
  const changeset = deputy.state.changesets.get(changesetId);
  if (!changeset || changeset.sessionId !== sessionId) {
    void vscode.window.showInformationMessage('That changeset is no longer open for review.');
    return;
  }
  const files = changeset.files.filter((f) => f.state !== 'invalid');
  const resources = files.map((f) => {
    const { left, right, resource } = sides(deputy, changeset, f);
    return [resource, left, right] as const;
  });
  const label = `Proposed by the agent: ${visibleLine(changeset.summary).slice(0, 80)}`;
  await vscode.commands.executeCommand('vscode.changes', label, resources);
}

/**
 * A file that changed since the agent read it: the file as it is now (the workspace's, untouched) beside the agent's
 * proposal, then the one way forward Deputy offers.
 */
export async function showConflict(deputy: Deputy, sessionId: string, changesetId: string, binding: string): Promise<void> {
  const r = await deputy.request(ConflictVersions.type, { sessionId, changesetId, binding });
  if (isFailure(r)) {
    await deputy.showFailure(r);
    return;
  }
  const ref = { sessionId, changesetId, binding, path: r.path };
  deputy.review.content.put(binding, { before: r.base ?? '', after: r.proposed ?? '' });
  const real = workspaceUri(deputy, sessionId, r.path);
  const left = r.current !== null && real ? real : proposedUri({ ...ref, side: 'base' });
  await vscode.commands.executeCommand('vscode.diff', left, proposedUri({ ...ref, side: 'proposed' }), `${visibleLine(r.path)} (yours now ↔ the agent's)`, { preview: false });
  const pick = await vscode.window.showWarningMessage(
    `${visibleLine(r.path)} changed since the agent read it: ${r.conflict.reason} Nothing was overwritten.`,
    'Ask the agent to redo it on the current content',
  );
  if (pick) await vscode.commands.executeCommand('deputy.review.redo', binding, sessionId, changesetId);
}
