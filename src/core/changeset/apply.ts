/**
 * `propose_changes`, last step: write one approved file. The base is re-checked right before writing, the path is
 * resolved again (a symlink swapped in since review is caught), and the write is atomic: a temp file in the same
 * folder, fsync, rename. A delete is an unlink. Missing parent folders are created inside the workspace only.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ChangeResult } from '../../protocol/tools.js';
import type { Workspace } from '../workspace.js';
import { WorkspaceError } from '../workspace-error.js';
import { readCurrent } from './prepare.js';
import type { PreparedFile } from './types.js';

function conflict(file: PreparedFile, reason: string): ChangeResult {
  return { path: file.path, status: 'conflict', reason };
}

function isInside(root: string, abs: string): boolean {
  return abs === root || abs.startsWith(root + path.sep);
}

/** Creates the missing folders above `abs`, one at a time, refusing if any existing one resolves outside the root. */
async function ensureParent(ws: Workspace, abs: string): Promise<void> {
  const missing: string[] = [];
  let dir = path.dirname(abs);
  for (;;) {
    try {
      const real = await fs.realpath(dir);
      if (!isInside(ws.root, real)) throw new WorkspaceError('outside_workspace', `The folder for this file resolves outside the workspace.`);
      if (!(await fs.stat(real)).isDirectory()) throw new WorkspaceError('not_a_directory', `"${path.relative(ws.root, dir)}" is a file, not a folder.`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.unshift(dir);
      dir = path.dirname(dir);
    }
  }
  for (const d of missing) await fs.mkdir(d);
}

/**
 * `abs` is a real path: its folder must still be that real folder. A folder swapped for a symlink since the path
 * was resolved would carry the write elsewhere; this narrows that window to the rename itself.
 */
async function checkFolderUnchanged(abs: string): Promise<void> {
  const dir = path.dirname(abs);
  if ((await fs.realpath(dir)) !== dir) {
    throw new WorkspaceError('outside_workspace', `The folder of this file was replaced by a link while it was being written; nothing was written.`);
  }
}

async function writeAtomically(abs: string, content: string, mode: number | undefined): Promise<void> {
  // A short temp name: the file's own name may already be near the filesystem's 255-byte limit.
  const tmp = path.join(path.dirname(abs), `.deputy-${randomBytes(6).toString('hex')}.tmp`);
  // 'wx' = O_CREAT|O_EXCL: never follows or reuses something already at the temp path.
  const handle = await fs.open(tmp, 'wx', mode ?? 0o666);
  try {
    try {
      await handle.writeFile(content, 'utf8');
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await checkFolderUnchanged(abs);
    await fs.rename(tmp, abs);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(abs));
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable; some platforms cannot open a folder for fsync, where this is best effort.
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

/**
 * Writes one reviewed file. A file that is not `ready` is returned as its status without touching disk. If the
 * file no longer hashes to `baseSha256` (or, for a create, now exists) the result is `conflict` and nothing is
 * written. Errors from the filesystem propagate.
 */
export async function applyPreparedFile(ws: Workspace, file: PreparedFile): Promise<ChangeResult> {
  if (file.status !== 'ready') {
    return { path: file.path, status: file.status, ...(file.reason !== undefined ? { reason: file.reason } : {}) };
  }
  let abs: string;
  try {
    abs = (await ws.resolve(file.path)).abs;
  } catch (err) {
    if (err instanceof WorkspaceError) return { path: file.path, status: 'invalid', reason: err.message };
    throw err;
  }
  // A file of any other size cannot hash to the base, so nothing bigger than the base is read.
  const current = await readCurrent(abs, file.path, file.before === null ? 0 : Buffer.byteLength(file.before, 'utf8'));
  if (file.operation === 'create') {
    if (current.kind !== 'missing') return conflict(file, `"${file.path}" was created by someone else after review; nothing was written.`);
  } else {
    if (current.kind === 'missing') return conflict(file, `"${file.path}" was deleted after review; nothing was written.`);
    if (current.kind === 'refused' || current.sha256 !== file.baseSha256) {
      return conflict(file, `"${file.path}" changed after review; nothing was written. Read it again and propose against its current content.`);
    }
  }
  if (file.operation === 'delete') {
    try {
      await checkFolderUnchanged(abs);
    } catch (err) {
      if (err instanceof WorkspaceError) return { path: file.path, status: 'invalid', reason: err.message };
      throw err;
    }
    await fs.unlink(abs);
    return { path: file.path, status: 'applied' };
  }
  if (file.after === null) throw new Error(`Prepared file ${file.path} is ready but has no content to write.`);
  let mode: number | undefined;
  if (file.operation === 'create') {
    try {
      await ensureParent(ws, abs);
    } catch (err) {
      if (err instanceof WorkspaceError) return { path: file.path, status: 'invalid', reason: err.message };
      throw err;
    }
  } else {
    mode = (await fs.stat(abs)).mode & 0o7777;
  }
  try {
    await writeAtomically(abs, file.after, mode);
  } catch (err) {
    if (err instanceof WorkspaceError) return { path: file.path, status: 'invalid', reason: err.message };
    throw err;
  }
  return { path: file.path, status: 'applied' };
}
