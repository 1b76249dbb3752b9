/**
 * Review before approval in real VS Code (code-server, headless Chromium), end to end (issue 9 §5): a task dispatched
 * from a `TODO(agent):` code lens asks a permission question, then proposes changes to three files; the person opens
 * them in the multi-file and the native diff editor, drops a hunk of one with its code lens and approves the rest from
 * the diff editor's title, approves another from the panel, and rejects the third with a line comment (Comments API);
 * the files land on disk through one WorkspaceEdit; the agent revises with the comment in hand; one Undo takes the
 * first approved set back; a file the person edits meanwhile is a conflict that keeps their edit, shows both versions and the
 * version the agent read, and goes back to the agent to redo; after a window reload "Revert This Task's Changes" puts
 * the task's files back; the audit timeline shows it all, verified. Screenshots of every step go to
 * test-results/vscode-e2e/ (review-*.png).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { startScriptedModel, type RecordedRequest, type ScriptEntry } from '../../fixtures/model-server.js';
import { ROOT, failure, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

const A0 = 'alpha\n';
const B0 = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
const C0 = 'const x = 1;\n';
const E0 = 'mine\n';
/** The person's edit to e.txt while the agent's proposal for it waits. */
const E_MINE = 'mine and my edit\n';
const E_REDONE = 'agent\nmine and my edit\n';
const SOURCE = `export function tidy(): void {
  // TODO(agent): tidy a, b and c
}
`;

/** b.txt with line 2 and line 28 changed: two hunks, far enough apart not to merge. */
const B1 = B0.replace('line 2\n', 'line two\n').replace('line 28\n', 'line twenty-eight\n');
const B_KEPT = B0.replace('line 2\n', 'line two\n');

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const unified = (path: string, before: string, after: string): string => {
  // One hunk per changed line of these small files, enough for the tool (the engine re-derives hunks itself).
  const a = before.split('\n');
  const b = after.split('\n');
  const out = [`--- a/${path}`, `+++ b/${path}`];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    out.push(`@@ -${i + 1},1 +${i + 1},1 @@`, `-${a[i]}`, `+${b[i]}`);
  }
  return out.join('\n') + '\n';
};

const read = (...paths: string[]): ScriptEntry => ({ toolCalls: paths.map((path, i) => ({ name: 'workspace_read', arguments: { path }, callId: `read_${path}_${i}_${Math.random().toString(36).slice(2, 8)}` })) });

async function button(panel: Frame, name: string, timeout = 30_000) {
  const b = panel.getByRole('button', { name, exact: true }).last();
  await b.waitFor({ state: 'visible', timeout });
  return b;
}

/** Screenshots are artifacts, not checks: on a machine too busy to take one in time, the test goes on without it. */
async function shot(vscode: VsCode, name: string): Promise<void> {
  await vscode.shot(name).catch((err: unknown) => console.log(`# screenshot ${name} skipped: ${String(err).split('\n')[0]}`));
}

async function titleAction(page: Page, title: string): Promise<void> {
  const action = page.locator(`.editor-actions .action-label[aria-label^="${title}"]`).first();
  await action.waitFor({ timeout: 30_000 });
  await action.click();
}

/** Quick Open; on a busy machine its file search can miss the first time (the index still loading): ask again. */
async function openFile(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await waitFor(
    async () => {
      await page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(name);
      if (await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 }).then(() => true, () => false)) return true;
      await page.keyboard.press('Escape');
      return false;
    },
    120_000,
    () => `Quick Open did not find ${name}`,
  );
  await input.press('Enter');
}

const onDisk = (ws: string, path: string): string | null => (existsSync(join(ws, path)) ? readFileSync(join(ws, path), 'utf8') : null);

test('Deputy review in VS Code: lens task, prompt, diff editor, hunks, line comment, revision, undo, conflict, revert after reload, timeline', {
    timeout: 25 * 60_000,
  }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-review-'));
  mkdirSync(join(ws, 'src'));
  writeFileSync(join(ws, 'src', 'tidy.ts'), SOURCE);
  writeFileSync(join(ws, '.env'), 'API_URL=http://localhost\n');
  writeFileSync(join(ws, 'a.txt'), A0);
  writeFileSync(join(ws, 'b.txt'), B0);
  writeFileSync(join(ws, 'c.ts'), C0);
  writeFileSync(join(ws, 'e.txt'), E0);
  const seen = { lineComment: '', redoContent: '' };
  const model = await startScriptedModel([
    // 1. the lens's task: read .env (a permission question), read the three files, propose a change to each
    read('.env'),
    read('a.txt', 'b.txt', 'c.ts'),
    {
      toolCalls: [
        {
          name: 'propose_changes',
          callId: 'call_round_1',
          arguments: {
            summary: 'Tidy three files',
            changes: [
              { path: 'a.txt', operation: 'update', diff: unified('a.txt', A0, 'ALPHA\n'), rationale: 'Upper case.' },
              { path: 'b.txt', operation: 'update', diff: unified('b.txt', B0, B1), rationale: 'Spell the numbers.' },
              { path: 'c.ts', operation: 'update', diff: unified('c.ts', C0, 'var x = 1;\n'), rationale: 'Older syntax.' },
            ],
          },
        },
      ],
    },
    // 2. the revision: the line comment on c.ts came back in the tool result
    (req: RecordedRequest) => {
      seen.lineComment = JSON.stringify(req.body);
      return {
        toolCalls: [
          {
            name: 'propose_changes',
            callId: 'call_round_2',
            arguments: {
              summary: 'Keep const, add a note',
              changes: [
                { path: 'c.ts', operation: 'update', diff: unified('c.ts', C0, 'const x = 2;\n'), rationale: 'As you asked: const stays.' },
                { path: 'd.md', operation: 'create', diff: '+# Notes\n', rationale: 'A note.' },
              ],
            },
          },
        ],
      };
    },
    { text: 'Revised as you asked.' },
    // 3. the follow-up that meets the person's own edit
    read('e.txt'),
    { toolCalls: [{ name: 'propose_changes', callId: 'call_e', arguments: { summary: 'Touch e', changes: [{ path: 'e.txt', operation: 'update', diff: unified('e.txt', E0, 'agent\n') }] } }] },
    { text: 'e.txt changed under me; left it.' },
    // 4. "Ask the agent to redo it on the current content": it reads the file as it is now and redoes the change on it
    read('e.txt'),
    (req: RecordedRequest) => {
      seen.redoContent = JSON.stringify(req.body);
      return { toolCalls: [{ name: 'propose_changes', callId: 'call_e_redo', arguments: { summary: 'Touch e again', changes: [{ path: 'e.txt', operation: 'update', diff: '@@ -1,1 +1,2 @@\n+agent\n mine and my edit\n' }] } }] };
    },
    { text: 'Redone on your version.' },
  ]);
  t.after(() => model.close());
  const vscode: VsCode = await launch({
    vsix: packageVsix(ROOT),
    workspace: ws,
    settings: {
      'deputy.embedded.modelBaseUrl': model.baseURL,
      'deputy.model': 'scripted',
      'workbench.startupEditor': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.commandCenter.enabled': false,
      'diffEditor.renderSideBySide': true,
    },
  });
  t.after(() => vscode.close());
  try {
    await steps(vscode, ws, seen);
  } catch (err) {
    throw await failure(vscode, 'review', err);
  }
});

async function steps(vscode: VsCode, ws: string, seen: { lineComment: string; redoContent: string }): Promise<void> {
  const { page } = vscode;
  // The task comes from a TODO(agent) lens (served by Deputy's language server, which the marker starts).
  await openFile(page, 'tidy.ts');
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Dispatch to agent' }).first();
  await lens.waitFor({ timeout: 300_000 });
  await lens.click();
  let panel = await vscode.panel();

  // The permission question, answered in the panel.
  await (await button(panel, 'Allow once', 60_000)).waitFor();
  await shot(vscode, 'review-01-prompt');
  await (await button(panel, 'Allow once')).click();

  // The card: three files, each with its counts and rationale.
  await (await button(panel, 'Approve a.txt', 60_000)).waitFor();
  await shot(vscode, 'review-02-card');

  // The whole changeset in the multi-file diff editor.
  await (await button(panel, 'Open all diffs')).click();
  await page.locator('.multiDiffEditor, .multi-diff-editor, [class*="multiDiff"]').first().waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-03-multi-diff');

  // b.txt in the native diff editor: drop its second hunk with the code lens, approve the rest from the title.
  await (await button(panel, 'Open diff b.txt')).click();
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 30_000 });
  const drop = page.locator('.monaco-diff-editor .codelens-decoration a', { hasText: 'Drop' });
  await waitFor(async () => (await drop.count()) >= 2, 60_000, () => 'the hunk lenses did not show');
  await shot(vscode, 'review-04-hunk-lenses');
  await drop.nth(1).click();
  panel = await vscode.panel();
  await panel.getByText('1 hunk dropped').first().waitFor({ timeout: 15_000 });
  // The lens redraws when VS Code next asks for lenses (debounced; slow on a loaded machine).
  await page.locator('.monaco-diff-editor .codelens-decoration', { hasText: 'Hunk 2 of 2: dropped' }).first().waitFor({ timeout: 90_000 });
  await titleAction(page, 'Approve This File');
  await shot(vscode, 'review-05-b-approved');

  // a.txt approved in the panel.
  await (await button(panel, 'Approve a.txt')).click();
  assert.equal(onDisk(ws, 'a.txt'), A0, 'nothing is written before every file is decided');

  // c.ts: a line comment on the proposed side, then Reject from the title.
  await (await button(panel, 'Open diff c.ts')).click();
  await lineComment(vscode, 'var x = 1;', 'keep const here');
  await shot(vscode, 'review-06-line-comment');
  panel = await vscode.panel();
  await panel.getByText('1 line comment').first().waitFor({ timeout: 15_000 });
  await titleAction(page, 'Reject This File');

  // Every file decided: a.txt and the kept hunk of b.txt land together; c.ts stays.
  // One edit for the set, then each file saved in turn: wait for both saves before reading b.txt.
  // (A save rewrites the file in place: it can be read half-written, so wait for the exact text.)
  await waitFor(
    async () => onDisk(ws, 'a.txt') === 'ALPHA\n' && onDisk(ws, 'b.txt') === B_KEPT,
    60_000,
    () => `a.txt ${JSON.stringify(onDisk(ws, 'a.txt'))}; b.txt should hold exactly the kept hunk: ${JSON.stringify(onDisk(ws, 'b.txt'))}`,
  );
  assert.equal(onDisk(ws, 'c.ts'), C0, 'the rejected file is untouched');

  // ONE Undo takes the approved set back (a.txt and b.txt, written by one WorkspaceEdit): Ctrl+Z in a.txt undoes the
  // step in every file it touched. VS Code asks first ("Undo in 2 Files") only for some edits: answer it when it does.
  await openFile(page, 'a.txt');
  await page.locator('.monaco-editor .view-lines', { hasText: 'ALPHA' }).first().click();
  await page.keyboard.press('Control+Z');
  const everywhere = page.locator('.monaco-dialog-box .monaco-button', { hasText: /Undo in \d+ Files/ }).first();
  if (await everywhere.waitFor({ timeout: 5_000 }).then(() => true, () => false)) {
    await shot(vscode, 'review-09-undo-question');
    await everywhere.click();
  }
  await page.locator('.monaco-editor .view-lines', { hasText: 'alpha' }).first().waitFor({ timeout: 15_000 });
  await vscode.command('File: Save All');
  await waitFor(async () => onDisk(ws, 'a.txt') === A0, 30_000, () => `after one Undo: a.txt ${onDisk(ws, 'a.txt')}`);
  await shot(vscode, 'review-10-undone');
  // b.txt went back with it: one Undo for the whole approved set.
  await waitFor(async () => onDisk(ws, 'b.txt') === B0, 30_000, () => `b.txt after one Undo in a.txt: ${onDisk(ws, 'b.txt')}`);
  assert.equal(onDisk(ws, 'c.ts'), C0, 'the rejected file was never written');

  // The agent revises with the comment in hand: round 2, approved as a whole.
  panel = await vscode.panel();
  await panel.getByText('round 2').first().waitFor({ timeout: 60_000 });
  assert.match(seen.lineComment, /keep const here/, 'the line comment reached the agent');
  await shot(vscode, 'review-07-round-2');
  await (await button(panel, 'Approve all')).click();
  // The created file appears empty first (the edit's createFile), then its text is saved into it.
  await waitFor(
    async () => onDisk(ws, 'd.md') === '# Notes\n' && onDisk(ws, 'c.ts') === 'const x = 2;\n',
    60_000,
    () => `the revision was not applied: c.ts ${JSON.stringify(onDisk(ws, 'c.ts'))}, d.md ${JSON.stringify(onDisk(ws, 'd.md'))}`,
  );
  await panel.getByText('Revised as you asked.').first().waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-08-revision-applied');

  // A conflict: the person edits e.txt while the agent's proposal waits; approving it keeps their edit.
  panel = await vscode.panel();
  const followUp = panel.getByRole('textbox', { name: 'Follow-up', exact: true }).or(panel.locator('.followup vscode-textarea textarea')).first();
  await followUp.fill('Now e.txt');
  await (await button(panel, 'Send')).click();
  await (await button(panel, 'Approve e.txt', 60_000)).waitFor();
  await openFile(page, 'e.txt');
  await page.locator('.monaco-editor .view-line', { hasText: 'mine' }).first().click();
  await page.keyboard.press('End');
  await page.keyboard.type(' and my edit');
  // The person saves their edit (the editor may save it anyway when focus moves to the panel, with auto save).
  await page.keyboard.press('Control+S');
  await waitFor(async () => onDisk(ws, 'e.txt') === E_MINE, 30_000, () => `e.txt after the person's save: ${onDisk(ws, 'e.txt')}`);
  panel = await vscode.panel();
  await (await button(panel, 'Approve e.txt')).click();
  await panel.getByText(/Conflict/).first().waitFor({ timeout: 60_000 });
  // The card names the version the agent read (its hash), beside the reason.
  await panel.getByText(`agent read ${sha(E0).slice(0, 12)}`).first().waitFor({ timeout: 10_000 });
  await shot(vscode, 'review-11-conflict');
  assert.equal(onDisk(ws, 'e.txt'), E_MINE, "nothing was written over the person's edit");
  await (await button(panel, 'Show both versions of e.txt')).click();
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 30_000 });
  await page.locator('.tab', { hasText: "(yours now ↔ the agent's)" }).first().waitFor({ timeout: 30_000 });
  // Both sides: the person's text on the left, the agent's on the right.
  await page.locator('.monaco-diff-editor .editor.original .view-lines', { hasText: 'mine and my edit' }).first().waitFor({ timeout: 15_000 });
  await page.locator('.monaco-diff-editor .editor.modified .view-lines', { hasText: 'agent' }).first().waitFor({ timeout: 15_000 });
  await shot(vscode, 'review-12-both-versions');
  // The agent redoes its change on the person's version.
  assert.equal(onDisk(ws, 'e.txt'), E_MINE);
  panel = await vscode.panel();
  await panel.getByText('e.txt changed under me; left it.').first().waitFor({ timeout: 60_000 });
  await (await button(panel, 'Ask the agent to redo e.txt on the current content')).click();
  await (await button(panel, 'Approve e.txt', 60_000)).waitFor();
  assert.match(seen.redoContent, /mine and my edit/, 'the agent read the current content');
  await (await button(panel, 'Approve e.txt')).click();
  await waitFor(async () => onDisk(ws, 'e.txt') === E_REDONE, 60_000, () => `e.txt after the redo: ${onDisk(ws, 'e.txt')}`);
  await panel.getByText('Redone on your version.').first().waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-13-redone');

  // After a window reload, "Revert This Task's Changes" puts every file of the task back as it was before Deputy.
  await vscode.reload();
  await vscode.command("Deputy: Revert This Task's Changes");
  // The task's own row, not a row of the palette that ran the command (still in the page as it closes): after the
  // reload the list comes once the server is up, and an Enter sent before it lands in the editor instead.
  const pick = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: /5 files/ }).first();
  await pick.waitFor({ timeout: 60_000 });
  await shot(vscode, 'review-14-revert-pick');
  await pick.click();
  const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Revert$/ }).first();
  await confirm.waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-15-revert-confirm');
  await confirm.click();
  // c.ts and d.md (the revision) and e.txt (the redo) are put back; a.txt and b.txt, already back by the Undo, count as
  // reverted (not as files that "changed since"); the person's own edit to e.txt, made before the agent's, stays.
  await waitFor(
    async () => onDisk(ws, 'c.ts') === C0 && onDisk(ws, 'd.md') === null && onDisk(ws, 'e.txt') === E_MINE,
    60_000,
    () => `after the revert: c.ts ${onDisk(ws, 'c.ts')}, d.md ${onDisk(ws, 'd.md')}, e.txt ${onDisk(ws, 'e.txt')}`,
  );
  assert.equal(onDisk(ws, 'a.txt'), A0);
  assert.equal(onDisk(ws, 'b.txt'), B0);
  // The toast may have timed out while the disk was checked: the notification center keeps it.
  const done = page.locator('.notification-list-item', { hasText: "Reverted this task's changes: 5 files restored" }).first();
  if (!(await done.waitFor({ timeout: 5_000 }).then(() => true, () => false))) await vscode.command('Notifications: Show Notifications');
  await done.waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-16-reverted');

  // The timeline: the task's events, and the chain verified by the server.
  await vscode.command('Deputy: Open Panel');
  panel = await vscode.panel();
  await panel
    .getByRole('button', { name: /tidy a, b and c/ })
    .first()
    .click({ timeout: 5_000 })
    .catch(() => undefined);
  await (await button(panel, 'Audit trail', 60_000)).click();
  const chain = panel.getByRole('status', { name: 'Audit chain' });
  await waitFor(async () => /Chain verified/.test((await chain.textContent().catch(() => '')) ?? ''), 60_000, () => 'the chain was not shown verified');
  const timeline = panel.getByRole('list', { name: 'Audit timeline' });
  await waitFor(
    async () => {
      if ((await timeline.getByRole('listitem', { name: /changeset\.reverted/ }).count()) > 0) return true;
      await (await button(panel, 'Verify again')).click();
      return false;
    },
    60_000,
    () => 'changeset.reverted never appeared on the timeline',
  );
  for (const kind of ['task.started', 'prompt.asked', 'prompt.answered', 'changeset.proposed', 'changeset.approved', 'changeset.rejected', 'changeset.applied', 'changeset.conflict', 'changeset.reverted']) {
    assert.ok((await timeline.getByRole('listitem', { name: new RegExp(kind.replace('.', '\\.')) }).count()) > 0, `${kind} on the timeline`);
  }
  await shot(vscode, 'review-17-timeline-verified');
}

/**
 * A line comment on the proposed side of the diff editor the panel just opened, through VS Code's own UI: the cursor
 * on the line, "Add Comment on Current Selection" from the command palette, the text typed into the comment widget's
 * editor, and Ctrl+Enter (VS Code's "submit comment": the thread's first action, Deputy's "Add Comment for the Agent").
 * The comment editor is a Monaco editor (an EditContext, no textarea): it takes focus by a click, like any editor.
 */
async function lineComment(vscode: VsCode, line: string, text: string): Promise<void> {
  const { page } = vscode;
  const modified = page.locator('.monaco-diff-editor .editor.modified').first();
  await modified.waitFor({ timeout: 30_000 });
  const form = page.locator('.review-widget .comment-form').first();
  // The command is offered only once the cursor's line has a commenting range (the extension's provider answers
  // after the document loads): on a busy machine, put the cursor there again and ask again.
  await waitFor(
    async () => {
      await modified.locator('.view-line', { hasText: line }).first().click();
      const offered = await vscode.command('Add Comment on Current Selection').then(
        () => true,
        async () => (await page.keyboard.press('Escape'), false),
      );
      return offered && (await form.waitFor({ timeout: 15_000 }).then(() => true, () => false));
    },
    120_000,
    () => 'the comment widget did not open',
  );
  await form.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.type(text);
  await form.locator('.monaco-editor .view-lines', { hasText: text }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Control+Enter');
  await page.locator('.review-widget .comment-body', { hasText: text }).first().waitFor({ timeout: 30_000 });
}
