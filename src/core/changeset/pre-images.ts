/**
 * "Revert this task's changes" (issue 9 §1): every file a task's reviewed changesets wrote has its pre-image (the
 * text before Deputy wrote it, or its absence) kept under `.deputy/pre-images/<task>.jsonl`, one line per applied
 * file, so the task's changes can be rolled back later — after a restart, from the CLI (`deputy revert`) or the
 * editor. Pre-images are never committed (the `.deputy/.gitignore` allow-list leaves them out) and are written through
 * the state-dir helpers (no link followed, owner checked).
 *
 * The revert keeps the conflict rule of every apply: a file whose text is no longer what Deputy wrote (someone edited
 * it since) is a conflict and is left alone; the others are put back together through the workspace port.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { ChangesetFileResult } from '../../protocol/events.js';
import { ensureStateDir, openStateFile, readStateFile } from '../state-dir.js';
import type { WorkspaceEdit, WorkspaceFiles } from '../workspace-files.js';
import { sha256Hex } from '../workspace-text.js';

/** One applied file, as kept. */
export interface PreImage {
  kind: 'applied';
  task: string;
  session: string;
  changesetId: string;
  path: string;
  /** The text before the apply; null when the file did not exist. */
  before: string | null;
  /** SHA-256 of what the apply wrote; null for a delete. */
  afterSha256: string | null;
  /** ISO 8601 UTC. */
  at: string;
}

/** A revert of some of the task's files (appended, so a second revert has nothing left to do). */
interface Reverted {
  kind: 'reverted';
  paths: string[];
  at: string;
}

type Line = PreImage | Reverted;

const TASK_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

function folder(root: string): string {
  return path.join(root, '.deputy', 'pre-images');
}

function fileFor(root: string, task: string): string {
  if (!TASK_ID.test(task) || task === '.' || task === '..') throw new Error(`"${task}" is not a task id.`);
  return path.join(folder(root), `${task.replace(/:/g, '_')}.jsonl`);
}

async function append(root: string, task: string, lines: Line[]): Promise<void> {
  if (lines.length === 0) return;
  await ensureStateDir(folder(root));
  const handle = await openStateFile(fileFor(root, task), 'a');
  try {
    await handle.writeFile(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readTask(file: string): Promise<Line[]> {
  const text = await readStateFile(file);
  if (text === null) return [];
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      out.push(JSON.parse(raw) as Line);
    } catch {
      // A line torn by a crash mid-append: the lines before it still stand.
    }
  }
  return out;
}

/** Keeps the pre-images of files just applied (call after the apply, with the applied files only). */
export async function keepPreImages(root: string, images: Omit<PreImage, 'kind' | 'at'>[]): Promise<void> {
  const at = new Date().toISOString();
  const byTask = new Map<string, Line[]>();
  for (const image of images) {
    const list = byTask.get(image.task) ?? [];
    list.push({ kind: 'applied', ...image, at });
    byTask.set(image.task, list);
  }
  for (const [task, lines] of byTask) await append(root, task, lines);
}

/** Per path: the oldest pre-image (what to put back) and the newest write (what must still be there). */
interface Outstanding {
  path: string;
  before: string | null;
  afterSha256: string | null;
  sessions: Set<string>;
  lastAt: string;
}

function outstanding(lines: Line[]): Map<string, Outstanding> {
  const files = new Map<string, Outstanding>();
  for (const line of lines) {
    if (line.kind === 'reverted') {
      for (const p of line.paths) files.delete(p);
      continue;
    }
    const known = files.get(line.path);
    if (known) {
      known.afterSha256 = line.afterSha256;
      known.sessions.add(line.session);
      known.lastAt = line.at;
    } else {
      files.set(line.path, { path: line.path, before: line.before, afterSha256: line.afterSha256, sessions: new Set([line.session]), lastAt: line.at });
    }
  }
  return files;
}

export interface RevertableTask {
  taskId: string;
  sessionIds: string[];
  appliedAt: string;
  files: string[];
}

/** The tasks of this workspace whose applied changes can still be reverted, newest first. */
export async function revertableTasks(root: string): Promise<RevertableTask[]> {
  let names: string[];
  try {
    names = (await fs.readdir(folder(root))).filter((n) => n.endsWith('.jsonl'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const tasks: RevertableTask[] = [];
  for (const name of names) {
    const lines = await readTask(path.join(folder(root), name));
    const files = [...outstanding(lines).values()];
    const first = lines.find((l): l is PreImage => l.kind === 'applied');
    if (files.length === 0 || !first) continue;
    tasks.push({
      taskId: first.task,
      sessionIds: [...new Set(files.flatMap((f) => [...f.sessions]))],
      appliedAt: files.map((f) => f.lastAt).sort().at(-1)!,
      files: files.map((f) => f.path),
    });
  }
  return tasks.sort((a, b) => (a.appliedAt < b.appliedAt ? 1 : -1));
}

/** Finds the task an id names: a task id, or a session id of one of its applies. */
export async function findRevertableTask(root: string, id: string): Promise<RevertableTask | undefined> {
  const tasks = await revertableTasks(root);
  return tasks.find((t) => t.taskId === id) ?? tasks.find((t) => t.sessionIds.includes(id));
}

/**
 * Puts back every file the task wrote: its oldest pre-image, when the file is still exactly what Deputy last wrote
 * there; otherwise a conflict, left alone. Files restored are marked so a second revert does not touch them again.
 */
export async function revertTask(root: string, taskId: string, files: WorkspaceFiles): Promise<ChangesetFileResult[]> {
  const lines = await readTask(fileFor(root, taskId));
  const pending = [...outstanding(lines).values()];
  if (pending.length === 0) return [];
  const now = await files.read(pending.map((p) => p.path));
  const results: ChangesetFileResult[] = new Array(pending.length);
  const edits: WorkspaceEdit[] = [];
  const editIndex: number[] = [];
  pending.forEach((p, i) => {
    const current = now[i]!;
    // Already as it was before the task (the person's Undo, or their own revert by hand): done, nothing to write. Not a
    // conflict: a person who undid the change would be told it "changed since" and be left with it still revertable.
    const back = p.before === null ? current.sha256 === null && current.refused === undefined : current.sha256 === sha256Hex(p.before);
    if (back) {
      results[i] = { path: p.path, status: 'applied', reason: 'it was already as it was before the task' };
      return;
    }
    const same = p.afterSha256 === null ? current.sha256 === null && current.refused === undefined : current.sha256 === p.afterSha256;
    if (!same) {
      const reason = `"${p.path}" changed after Deputy wrote it; it was left as it is.`;
      results[i] = { path: p.path, status: 'conflict', reason, conflict: { path: p.path, baseSha256: p.afterSha256, currentSha256: current.sha256, reason } };
      return;
    }
    edits.push({
      path: p.path,
      kind: p.before === null ? 'delete' : current.content === null ? 'create' : 'update',
      expectedSha256: current.sha256,
      before: current.content,
      content: p.before,
    });
    editIndex.push(i);
  });
  const applied = edits.length > 0 ? await files.apply(`Revert Deputy task ${taskId}`, edits) : [];
  applied.forEach((r, k) => {
    const i = editIndex[k]!;
    const p = pending[i]!;
    results[i] =
      r.status === 'applied'
        ? { path: p.path, status: 'applied' }
        : r.status === 'conflict'
          ? { path: p.path, status: 'conflict', reason: r.reason ?? `"${p.path}" changed while it was being reverted; it was left as it is.` }
          : { path: p.path, status: 'invalid', reason: r.reason ?? 'The revert of this file failed.' };
  });
  const restored = pending.filter((_, i) => results[i]!.status === 'applied').map((p) => p.path);
  await append(root, taskId, restored.length > 0 ? [{ kind: 'reverted', paths: restored, at: new Date().toISOString() }] : []);
  return results;
}
