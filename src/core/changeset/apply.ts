/**
 * `propose_changes`, last step: write approved files. The base is re-checked right before writing, the path is
 * resolved again (a symlink swapped in since review is caught), and the write is atomic: a temp file in the same
 * folder, fsync, rename, fsync of the folder. A delete is an unlink. Missing parent folders are created inside
 * the workspace only.
 *
 * Several files (`applyPreparedFiles`) are written in parallel, a bounded number at a time, and each folder is
 * fsync'd once after all its renames instead of once per file; every guarantee of a single file holds for each.
 *
 * A crash between creating a temp file and renaming it would leave `.deputy-<hex>.tmp` beside the user's file. So
 * the temp names of every write are first listed in a journal under `.deputy/runtime/pending-writes/` (written, not
 * fsync'd: it outlives a killed process, which is the crash that matters here), removed once the write is done; the
 * next run removes the temps a dead process's journal lists (`cleanInterruptedApplies`), and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChangeResult } from '../../protocol/tools.js';
import { ensureStateDir, openStateFile, isProcessRunning } from '../state-dir.js';
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

/** Deputy's temp files, and only they, have names of this shape (`writeAtomically`). */
const TEMP_NAME = /^\.deputy-[0-9a-f]{12}\.tmp$/;

function tempPathFor(abs: string): string {
  // A short temp name: the file's own name may already be near the filesystem's 255-byte limit.
  return path.join(path.dirname(abs), `.deputy-${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `content` to `tmp`, fsyncs it and renames it over `abs`; the folder is fsync'd by the caller. */
async function writeAtomically(abs: string, tmp: string, content: string, mode: number | undefined): Promise<void> {
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
}

async function syncDir(dir: string): Promise<void> {
  // Makes the renames durable; some platforms cannot open a folder for fsync, where this is best effort.
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

function journalDir(ws: Workspace): string {
  return path.join(ws.root, '.deputy', 'runtime', 'pending-writes');
}

interface Journal {
  host: string;
  pid: number;
  temps: string[];
}

/** Lists `temps` in a new journal before any of them exists; returns the journal's path (removed by the caller). */
async function openJournal(ws: Workspace, temps: string[]): Promise<string> {
  const dir = journalDir(ws);
  await ensureStateDir(dir);
  const file = path.join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  const handle = await openStateFile(file, 'wx');
  try {
    await handle.writeFile(JSON.stringify({ host: os.hostname(), pid: process.pid, temps } satisfies Journal));
  } finally {
    await handle.close();
  }
  return file;
}


/**
 * Removes the temp files an interrupted apply left behind: those listed in the journal of a process that is no
 * longer running on this host, still inside the workspace, named like Deputy's temps and regular files (not links).
 * Returns the workspace-relative paths removed. Safe to call while other Deputy processes apply: their journals
 * name a live pid and are left alone.
 */
export async function cleanInterruptedApplies(ws: Workspace): Promise<string[]> {
  const dir = journalDir(ws);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  await ensureStateDir(dir);
  const removed: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name);
    let journal: Partial<Journal>;
    try {
      const handle = await openStateFile(file, 'r');
      try {
        journal = JSON.parse(await handle.readFile('utf8')) as Partial<Journal>;
      } finally {
        await handle.close();
      }
    } catch {
      continue; // being written right now, or not a journal: not ours to judge
    }
    if (typeof journal.pid !== 'number' || !Array.isArray(journal.temps)) continue;
    if (journal.host !== os.hostname() || isProcessRunning(journal.pid)) continue;
    for (const temp of journal.temps) {
      if (typeof temp !== 'string' || !path.isAbsolute(temp) || !isInside(ws.root, temp) || !TEMP_NAME.test(path.basename(temp))) continue;
      const stats = await fs.lstat(temp).catch(() => null);
      if (!stats?.isFile()) continue;
      await fs.rm(temp, { force: true });
      removed.push(path.relative(ws.root, temp));
    }
    await fs.rm(file, { force: true });
  }
  return removed;
}

/** A ready file after its re-checks: where it goes and how, or the result that ends it without writing. */
type Checked =
  | { done: ChangeResult }
  | { abs: string; operation: 'delete' }
  | { abs: string; operation: 'create' | 'update'; content: string; mode: number | undefined };

/**
 * The re-checks before writing one file: resolves its path again, compares the base, creates a new file's parent
 * folders. A file that is not `ready` is returned as its status.
 */
async function check(ws: Workspace, file: PreparedFile): Promise<Checked> {
  if (file.status !== 'ready') {
    return { done: { path: file.path, status: file.status, ...(file.reason !== undefined ? { reason: file.reason } : {}) } };
  }
  let abs: string;
  try {
    abs = (await ws.resolve(file.path)).abs;
  } catch (err) {
    if (err instanceof WorkspaceError) return { done: { path: file.path, status: 'invalid', reason: err.message } };
    throw err;
  }
  // A file of any other size cannot hash to the base, so nothing bigger than the base is read.
  const current = await readCurrent(abs, file.path, file.before === null ? 0 : Buffer.byteLength(file.before, 'utf8'));
  if (file.operation === 'create') {
    if (current.kind !== 'missing') return { done: conflict(file, `"${file.path}" was created by someone else after review; nothing was written.`) };
  } else {
    if (current.kind === 'missing') return { done: conflict(file, `"${file.path}" was deleted after review; nothing was written.`) };
    if (current.kind === 'refused' || current.sha256 !== file.baseSha256) {
      return { done: conflict(file, `"${file.path}" changed after review; nothing was written. Read it again and propose against its current content.`) };
    }
  }
  if (file.operation === 'delete') return { abs, operation: 'delete' };
  if (file.after === null) throw new Error(`Prepared file ${file.path} is ready but has no content to write.`);
  if (file.operation === 'create') {
    try {
      await ensureParent(ws, abs);
    } catch (err) {
      if (err instanceof WorkspaceError) return { done: { path: file.path, status: 'invalid', reason: err.message } };
      throw err;
    }
    return { abs, operation: 'create', content: file.after, mode: undefined };
  }
  return { abs, operation: 'update', content: file.after, mode: (await fs.stat(abs)).mode & 0o7777 };
}

/** Writes (or deletes) one checked file; the folder's fsync is left to the caller. */
async function write(file: PreparedFile, checked: Exclude<Checked, { done: ChangeResult }>, tmp: string | null): Promise<ChangeResult> {
  try {
    if (checked.operation === 'delete') {
      await checkFolderUnchanged(checked.abs);
      await fs.unlink(checked.abs);
    } else {
      await writeAtomically(checked.abs, tmp!, checked.content, checked.mode);
    }
  } catch (err) {
    if (err instanceof WorkspaceError) return { path: file.path, status: 'invalid', reason: err.message };
    throw err;
  }
  return { path: file.path, status: 'applied' };
}

/** How many files `applyPreparedFiles` writes at once by default: enough to overlap fsyncs, few enough for any disk. */
export const DEFAULT_APPLY_CONCURRENCY = 8;

/**
 * Writes one reviewed file. A file that is not `ready` is returned as its status without touching disk. If the
 * file no longer hashes to `baseSha256` (or, for a create, now exists) the result is `conflict` and nothing is
 * written. Errors from the filesystem propagate.
 */
export async function applyPreparedFile(ws: Workspace, file: PreparedFile): Promise<ChangeResult> {
  const [result] = await applyPreparedFiles(ws, [file], { concurrency: 1 });
  return result!;
}

/** Runs `task` on every index below `count`, at most `limit` at a time; the first error is thrown after all stop. */
async function eachBounded(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure !== null) throw (failure as { err: unknown }).err;
}

/**
 * Writes several reviewed files, each exactly as `applyPreparedFile` would (its own re-checks, its own result),
 * up to `concurrency` at a time; results are in the order given. All files are re-checked first, then their temp
 * names are journalled, then they are written; each folder written to is fsync'd once, after its files are renamed
 * and before any result is returned. A filesystem error stops the call (files already written stay written).
 */
export async function applyPreparedFiles(
  ws: Workspace,
  files: readonly PreparedFile[],
  options: { concurrency?: number; errorsAsResults?: boolean } = {},
): Promise<ChangeResult[]> {
  const limit = Math.max(1, options.concurrency ?? DEFAULT_APPLY_CONCURRENCY);
  // With `errorsAsResults`, a filesystem error on one file (disk full, name too long) is that file's `invalid`
  // result and the others go on: what was written is reported as written.
  const guard = <T>(file: PreparedFile, run: () => Promise<T>): Promise<T | { done: ChangeResult }> =>
    options.errorsAsResults
      ? run().catch((err: unknown) => ({
          done: { path: file.path, status: 'invalid' as const, reason: `Writing ${file.path} failed: ${err instanceof Error ? err.message : String(err)}. Nothing was written to it.` },
        }))
      : run();
  const checked: Checked[] = new Array(files.length);
  await eachBounded(files.length, limit, async (i) => {
    checked[i] = await guard(files[i]!, () => check(ws, files[i]!));
  });
  const temps = checked.map((c) => ('done' in c || c.operation === 'delete' ? null : tempPathFor(c.abs)));
  const listed = temps.filter((t): t is string => t !== null);
  const journal = listed.length > 0 ? await openJournal(ws, listed) : null;
  const results: ChangeResult[] = new Array(files.length);
  const touched = new Set<string>();
  try {
    await eachBounded(files.length, limit, async (i) => {
      const c = checked[i]!;
      if ('done' in c) {
        results[i] = c.done;
        return;
      }
      const written = await guard(files[i]!, () => write(files[i]!, c, temps[i]!));
      results[i] = 'done' in written ? written.done : written;
      if (results[i]!.status === 'applied') touched.add(path.dirname(c.abs));
    });
  } finally {
    await Promise.all([...touched].map(syncDir));
    if (journal !== null) await fs.rm(journal, { force: true });
  }
  return results;
}
