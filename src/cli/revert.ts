/**
 * `deputy revert`: "Revert this task's changes" from the terminal. Puts back every file a task's reviewed changes
 * wrote, from the pre-images kept under `.deputy/pre-images/`; a file edited since Deputy wrote it is a conflict and
 * is left as it is. Works after any restart: nothing but what is on disk is needed. Without an id, lists the tasks
 * whose changes can be reverted.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../core/audit.js';
import { revertableTasks } from '../core/changeset/pre-images.js';
import { revertById } from '../core/revert.js';
import { prepareStateDir } from '../core/state-dir.js';
import { visibleText } from '../core/visible-text.js';
import { DiskWorkspaceFiles } from '../core/workspace-files.js';
import { Workspace } from '../core/workspace.js';
import type { Command } from './io.js';

const USAGE = `Usage:
  deputy revert [--workspace DIR] TASK_OR_SESSION_ID
  deputy revert [--workspace DIR] --list

Puts back every file the task's approved changes wrote (the task id, or the id of one of its sessions, as
\`deputy run\` prints them). A file changed since Deputy wrote it is a conflict and is left as it is; the others are
restored. Exit 0 when every file was restored, 1 when any was left as it is.

Options:
  --workspace DIR   the workspace (default: the current folder)
  --list            list the tasks whose changes can be reverted
  -h, --help        show this help`;

export const revertCommand: Command = async (argv, io) => {
  let v: { values: { workspace?: string; list?: boolean; help?: boolean }; positionals: string[] };
  try {
    v = parseArgs({ args: argv, allowPositionals: true, options: { workspace: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  if (v.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = resolve(io.cwd, v.values.workspace ?? '.');
  if (v.values.list || v.positionals.length === 0) {
    if (!v.values.list) {
      io.stderr.write(`Name the task to revert.\n\n${USAGE}\n`);
      return 2;
    }
    const tasks = await revertableTasks(root);
    if (tasks.length === 0) io.stdout.write('No task has changes left to revert.\n');
    for (const t of tasks) io.stdout.write(`${t.taskId}  ${t.appliedAt}  ${t.files.length} file${t.files.length === 1 ? '' : 's'}: ${visibleText(t.files.join(', '))}\n`);
    return 0;
  }
  if (v.positionals.length > 1) {
    io.stderr.write(`Name one task.\n\n${USAGE}\n`);
    return 2;
  }
  const id = v.positionals[0]!;
  await prepareStateDir(root);
  const audit = await AuditLog.open(root);
  try {
    const done = await revertById(root, id, new DiskWorkspaceFiles(await Workspace.open(root)), audit, { principal: userInfo().username });
    if (!done) {
      io.stderr.write(`No task with changes to revert matches "${visibleText(id)}" in ${root}. \`deputy revert --list\` shows them.\n`);
      return 1;
    }
    for (const r of done.results) {
      const what = visibleText(r.path);
      io.stdout.write(r.status === 'applied' ? `restored  ${what}\n` : `left as is  ${what}: ${visibleText(r.reason ?? r.status)}\n`);
    }
    return done.results.every((r) => r.status === 'applied') ? 0 : 1;
  } finally {
    await audit.close();
  }
};
