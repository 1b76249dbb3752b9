/**
 * Writing one approved shadow change to the real workspace, and putting one rejected change back in the shadow.
 * Text goes through the workspace port like `propose_changes` (the disk for the CLI, the editor's WorkspaceEdit in
 * the editor); binary content and the executable bit, which a text changeset cannot carry, are written here
 * with the same rule: the real file must still be exactly what the snapshot saw, else it is a conflict.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Workspace } from '../core/workspace.js';
import { WorkspaceError } from '../core/workspace-error.js';
import { resolveInWorkspace } from '../core/workspace-paths.js';
import { sha256Hex } from '../core/workspace-text.js';
import type { ChangeResult } from '../protocol/tools.js';
import { writeAtomically } from './atomic-write.js';
import type { ShadowChange } from './shadow-changes.js';

function fileMode(gitMode: string | null): number {
  return gitMode === '100755' ? 0o755 : 0o644;
}

/**
 * Gives an applied text file the executable bit the agent set (or cleared) in the shadow: the text went through the
 * workspace port, which carries content only. The mode is not content, so no unsaved edit of the person's can be lost.
 */
export async function applyShadowMode(ws: Workspace, change: ShadowChange): Promise<void> {
  if (change.binary || change.afterMode === null || (change.afterMode === change.beforeMode && change.afterMode !== '100755')) return;
  await fs.chmod((await ws.resolve(change.file.path)).abs, fileMode(change.afterMode));
}

/** Writes one approved binary change (what a text port cannot carry) with the same conflict rule as text. */
export async function applyShadowBinary(ws: Workspace, change: ShadowChange): Promise<ChangeResult> {
  const file = change.file;
  let abs: string;
  try {
    abs = (await ws.resolve(file.path)).abs;
  } catch (err) {
    if (err instanceof WorkspaceError) return { path: file.path, status: 'invalid', reason: err.message };
    throw err;
  }
  const current = await fs.lstat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (file.operation === 'create') {
    if (current) return { path: file.path, status: 'conflict', reason: `"${file.path}" was created in the workspace after the agent's snapshot; nothing was written.` };
  } else {
    if (!current) return { path: file.path, status: 'conflict', reason: `"${file.path}" was deleted in the workspace after the agent's snapshot; nothing was written.` };
    if (!current.isFile() || current.size !== change.beforeBytes?.length || sha256Hex(await fs.readFile(abs)) !== file.baseSha256) {
      return { path: file.path, status: 'conflict', reason: `"${file.path}" changed in the workspace after the agent's snapshot; nothing was written.` };
    }
  }
  if (file.operation === 'delete') {
    await fs.unlink(abs);
    return { path: file.path, status: 'applied' };
  }
  await fs.mkdir(path.dirname(abs), { recursive: true });
  // The folder may only now exist: resolve again so a link created meanwhile cannot carry the write outside.
  const again = await resolveInWorkspace(ws.root, file.path);
  await writeAtomically(again.abs, change.afterBytes ?? Buffer.alloc(0), { mode: fileMode(change.afterMode), durable: true });
  return { path: file.path, status: 'applied' };
}

/** Puts the baseline content (or absence) of a rejected change back in the shadow. */
export async function revertInShadow(shadowRoot: string, change: ShadowChange): Promise<void> {
  const abs = (await resolveInWorkspace(shadowRoot, change.file.path)).abs;
  if (change.beforeBytes === null) {
    await fs.rm(abs, { force: true });
    return;
  }
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.rm(abs, { force: true, recursive: true });
  await writeAtomically(abs, change.beforeBytes, { mode: fileMode(change.beforeMode), durable: false });
}

/** Writes `text` over a change's file in the shadow (the part of the agent's change the person kept). */
export async function writeInShadow(shadowRoot: string, change: ShadowChange, text: string): Promise<void> {
  const abs = (await resolveInWorkspace(shadowRoot, change.file.path)).abs;
  await writeAtomically(abs, Buffer.from(text, 'utf8'), { mode: fileMode(change.afterMode), durable: false });
}
