/**
 * The review's commands: the diff editor's title actions (Approve / Reject / Request Changes / Mark Reviewed on a
 * `deputy-proposed:` document), the hunk lenses' Keep / Drop, the comment thread's buttons, the "Changes" view's
 * inline actions, and "Revert this task's changes". Each finds its file from whatever invoked it: a proposed
 * document's URI, a tree node, explicit ids, or the active editor.
 */
import * as vscode from 'vscode';
import { visibleLine } from '../../core/visible-text.js';
import { FollowUp, RevertTask, RevertableTasks, isFailure } from '../../protocol/lsp.js';
import type { CommandSpec } from '../command-spec.js';
import type { Deputy } from '../deputy.js';
import type { ReviewCommandId } from '../manifest-ids.js';
import { nodeIds } from './changes-tree.js';
import { decide, type FileChoice } from './decide.js';
import { openChangesetDiff, openFileDiff, showConflict } from './diff-editor.js';
import { parseProposedUri } from './uris.js';

interface Target {
  sessionId: string;
  changesetId: string;
  binding?: string;
}

/** What a command was invoked on. */
function targetOf(deputy: Deputy, args: unknown[]): Target | undefined {
  const [a, b, c] = args;
  if (a instanceof vscode.Uri) {
    const ref = parseProposedUri(a);
    if (ref) return ref;
  }
  const node = nodeIds(a);
  if (node) return node;
  if (typeof a === 'string' && typeof b === 'string') {
    // (binding, sessionId, changesetId) from a notification, or (sessionId, changesetId[, binding]).
    if (/^[0-9a-f]{64}$/.test(a) && typeof c === 'string') return { sessionId: b, changesetId: c, binding: a };
    return { sessionId: a, changesetId: b, ...(typeof c === 'string' ? { binding: c } : {}) };
  }
  const active = parseProposedUri(vscode.window.activeTextEditor?.document.uri);
  if (active) return active;
  const latest = [...deputy.state.changesets.values()].at(-1);
  return latest ? { sessionId: latest.sessionId, changesetId: latest.changesetId } : undefined;
}

function nothingOpen(): undefined {
  void vscode.window.showInformationMessage('No proposed file is open for review here.');
  return undefined;
}

async function decideOne(deputy: Deputy, args: unknown[], choice: FileChoice, comment?: string): Promise<void> {
  const t = targetOf(deputy, args);
  if (!t?.binding) return nothingOpen();
  if (!deputy.state.isOpen(t.binding) && deputy.state.fileOf(t.binding)) {
    void vscode.window.showInformationMessage('That file was already decided.');
    return;
  }
  const r = await decide(deputy, t.sessionId, t.changesetId, [{ binding: t.binding, choice, ...(comment ? { comment } : {}) }]);
  if (r.accepted.length && r.undecided > 0) {
    void vscode.window.setStatusBarMessage(`Deputy: ${r.undecided} file${r.undecided === 1 ? '' : 's'} of this changeset still to decide`, 5000);
  }
}

async function decideAll(deputy: Deputy, args: unknown[], choice: 'approve' | 'reject'): Promise<void> {
  const t = targetOf(deputy, args);
  if (!t) return nothingOpen();
  const changeset = deputy.state.changesets.get(t.changesetId);
  const open = changeset?.files.filter((f) => f.state === 'ready' && deputy.state.isOpen(f.binding)) ?? [];
  // Each open file by name (hunk drafts and comments travel with it); files this window never saw, by `rest`.
  await decide(deputy, t.sessionId, t.changesetId, open.map((f) => ({ binding: f.binding, choice })), changeset ? {} : { rest: choice });
}

/** The hunk a Keep / Drop applies to: from a lens (ids) or from the cursor in a proposed document. */
function hunkTarget(deputy: Deputy, args: unknown[]): { binding: string; hunkId: string } | undefined {
  const [a, b] = args;
  if (typeof a === 'string' && typeof b === 'string') return { binding: a, hunkId: b };
  const editor = vscode.window.activeTextEditor;
  const ref = parseProposedUri(a instanceof vscode.Uri ? a : editor?.document.uri);
  if (!ref || !editor) return undefined;
  const line = editor.selection.active.line + 1;
  const hunk = deputy.state.fileOf(ref.binding)?.file.hunks?.find((h) => line >= h.newStart && line < h.newStart + Math.max(h.newLines, 1));
  return hunk ? { binding: ref.binding, hunkId: hunk.hunkId } : undefined;
}

export function reviewCommandTable(deputy: Deputy): Record<ReviewCommandId, CommandSpec> {
  const chooseHunk = (keep: boolean): CommandSpec => ({
    server: false,
    async run(...args) {
      const h = hunkTarget(deputy, args);
      if (!h) return void vscode.window.showInformationMessage('Put the cursor in a hunk of a proposed file first.');
      deputy.review.drafts.chooseHunk(h.binding, h.hunkId, keep);
    },
  });
  return {
    'deputy.openAllDiffs': {
      server: true,
      async run(...args) {
        const t = targetOf(deputy, args);
        if (!t) return void vscode.window.showInformationMessage('No changes are waiting for your review.');
        await openChangesetDiff(deputy, t.sessionId, t.changesetId);
      },
    },
    'deputy.review.openDiff': {
      server: true,
      async run(...args) {
        const t = targetOf(deputy, args);
        if (!t?.binding) return nothingOpen();
        await openFileDiff(deputy, t.sessionId, t.changesetId, t.binding);
      },
    },
    'deputy.review.approveFile': { server: true, run: (...args) => decideOne(deputy, args, 'approve') },
    'deputy.review.rejectFile': { server: true, run: (...args) => decideOne(deputy, args, 'reject') },
    'deputy.review.requestChanges': {
      server: true,
      async run(...args) {
        const t = targetOf(deputy, args);
        if (!t?.binding) return nothingOpen();
        const lines = deputy.review.comments.count(t.binding);
        const comment = await vscode.window.showInputBox({
          prompt: `What should the agent change in this file?${lines ? ` (${lines} line comment${lines === 1 ? '' : 's'} go with it)` : ''}`,
          placeHolder: 'A general comment for the agent',
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() || lines ? undefined : 'Say what should change, or add a line comment first'),
        });
        if (comment === undefined) return;
        await decideOne(deputy, [t.sessionId, t.changesetId, t.binding], 'requestChanges', comment.trim());
      },
    },
    'deputy.review.markReviewed': {
      server: false,
      async run(...args) {
        const t = targetOf(deputy, args);
        const found = t?.binding ? deputy.state.fileOf(t.binding) : undefined;
        if (!t || !found) return nothingOpen();
        const { drafts } = deputy.review;
        drafts.markReviewed(t.sessionId, found.file, !drafts.isReviewed(t.sessionId, found.file));
        void vscode.window.setStatusBarMessage(`Deputy: ${visibleLine(found.file.path)} ${drafts.isReviewed(t.sessionId, found.file) ? 'marked reviewed' : 'no longer marked reviewed'}`, 4000);
      },
    },
    'deputy.review.keepHunk': chooseHunk(true),
    'deputy.review.dropHunk': chooseHunk(false),
    'deputy.review.addComment': {
      server: false,
      async run(reply) {
        if (reply && typeof reply === 'object' && 'thread' in reply && 'text' in reply) deputy.review.comments.add(reply as vscode.CommentReply);
      },
    },
    'deputy.review.deleteComment': {
      server: false,
      async run(thread) {
        if (thread && typeof thread === 'object' && 'uri' in thread && 'comments' in thread) deputy.review.comments.remove(thread as vscode.CommentThread);
      },
    },
    'deputy.review.approveAll': { server: true, run: (...args) => decideAll(deputy, args, 'approve') },
    'deputy.review.rejectAll': { server: true, run: (...args) => decideAll(deputy, args, 'reject') },
    'deputy.review.showConflict': {
      server: true,
      async run(...args) {
        const t = targetOf(deputy, args);
        if (!t?.binding) return nothingOpen();
        await showConflict(deputy, t.sessionId, t.changesetId, t.binding);
      },
    },
    'deputy.review.redo': {
      server: true,
      async run(...args) {
        const t = targetOf(deputy, args);
        if (!t?.binding) return nothingOpen();
        if (deputy.state.isOpen(t.binding)) {
          await decide(deputy, t.sessionId, t.changesetId, [{ binding: t.binding, choice: 'redo' }]);
          return;
        }
        // The changeset was already applied around the conflict: the request goes to the agent as a message.
        const path = deputy.state.fileOf(t.binding)?.file.path ?? 'The file';
        const r = await deputy.request(FollowUp.type, { sessionId: t.sessionId, text: `${path} changed since you read it and was left as it is. Read its current content and redo your change on it.` });
        if (isFailure(r)) await deputy.showFailure(r);
      },
    },
    'deputy.revertTask': {
      server: true,
      async run(sessionArg) {
        const { tasks } = await deputy.request(RevertableTasks.type, {});
        if (tasks.length === 0) return void vscode.window.showInformationMessage("No task's applied changes are kept to revert.");
        const given = typeof sessionArg === 'string' ? tasks.find((t) => t.taskId === sessionArg || t.sessionIds.includes(sessionArg)) : undefined;
        const task =
          given ??
          (
            await vscode.window.showQuickPick(
              tasks.map((t) => ({
                label: deputy.state.sessions.find((s) => t.sessionIds.includes(s.sessionId))?.task.split('\n')[0]?.slice(0, 80) ?? t.taskId,
                description: `${t.files.length} file${t.files.length === 1 ? '' : 's'} · applied ${t.appliedAt}`,
                detail: t.files.slice(0, 5).map((f) => visibleLine(f)).join(', ') + (t.files.length > 5 ? ', …' : ''),
                task: t,
              })),
              { placeHolder: "Revert which task's changes?" },
            )
          )?.task;
        if (!task) return;
        const ok = await vscode.window.showWarningMessage(
          `Put back ${task.files.length} file${task.files.length === 1 ? '' : 's'} as they were before this task's changes? Files changed since are left alone.`,
          { modal: true },
          'Revert',
        );
        if (ok !== 'Revert') return;
        const r = await deputy.request(RevertTask.type, { id: task.taskId });
        if (isFailure(r)) return void (await deputy.showFailure(r));
        const restored = r.results.filter((x) => x.status === 'applied').length;
        const conflicts = r.results.filter((x) => x.status === 'conflict').map((x) => visibleLine(x.path));
        if (conflicts.length) void vscode.window.showWarningMessage(`Reverted ${restored} file${restored === 1 ? '' : 's'}; left alone because they changed since: ${conflicts.join(', ')}.`);
        else void vscode.window.showInformationMessage(`Reverted this task's changes: ${restored} file${restored === 1 ? '' : 's'} restored.`);
      },
    },
  };
}
