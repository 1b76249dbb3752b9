/**
 * "Revert this task's changes" as one audited act, for the CLI (`deputy revert`) and the language server alike: find
 * the task an id names (a task id or one of its session ids), put its files back through the workspace port, and
 * record every file's outcome on the audit trail.
 */
import type { AuditActor, AuditLog } from './audit.js';
import { findRevertableTask, revertTask } from './changeset/pre-images.js';
import type { WorkspaceFiles } from './workspace-files.js';
import type { ChangesetFileResult } from '../protocol/events.js';

export interface Reverted {
  taskId: string;
  sessionIds: string[];
  results: ChangesetFileResult[];
}

/** Undefined when no task with applied changes left to revert matches `id`. */
export async function revertById(root: string, id: string, files: WorkspaceFiles, audit: AuditLog, actor: AuditActor): Promise<Reverted | undefined> {
  const task = await findRevertableTask(root, id);
  if (!task) return undefined;
  const results = await revertTask(root, task.taskId, files);
  for (const r of results) {
    await audit.append({
      type: 'changeset.reverted',
      task: task.taskId,
      actor,
      data: { path: r.path, status: r.status, ...(r.reason ? { reason: r.reason } : {}) },
    });
  }
  return { taskId: task.taskId, sessionIds: task.sessionIds, results };
}
