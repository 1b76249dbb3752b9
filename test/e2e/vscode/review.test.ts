/**
 * Review before approval in real VS Code (code-server, headless Chromium): a task proposes changes to three files;
 * the person opens them in the multi-file and the native diff editor, approves one from the panel, drops a hunk of
 * another with its code lens and approves the rest from the diff editor's title, rejects the third with a line
 * comment (Comments API); the files land on disk through one WorkspaceEdit; the agent revises with the comment in
 * hand; one Undo takes the revision back; and a file the person is editing meanwhile is a conflict that keeps their
 * edit. Screenshots of every step go to test-results/vscode-e2e/ (review-*.png).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { startScriptedModel, type RecordedRequest, type ScriptEntry } from '../../fixtures/model-server.js';
import { ROOT, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

const A0 = 'alpha\n';
const B0 = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
const C0 = 'const x = 1;\n';
const E0 = 'mine\n';

/** b.txt with line 2 and line 28 changed: two hunks, far enough apart not to merge. */
const B1 = B0.replace('line 2\n', 'line two\n').replace('line 28\n', 'line twenty-eight\n');
const B_KEPT = B0.replace('line 2\n', 'line two\n');

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

const read = (...paths: string[]): ScriptEntry => ({ toolCalls: paths.map((path, i) => ({ name: 'workspace_read', arguments: { path }, callId: `read_${path}_${i}` })) });

function lastToolOutput(req: RecordedRequest): string {
  return JSON.stringify(req.body);
}

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

test('Deputy review in VS Code: diff editor, hunks, line comments, one WorkspaceEdit, revision, undo, conflict', { timeout: 20 * 60_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-review-'));
  writeFileSync(join(ws, 'a.txt'), A0);
  writeFileSync(join(ws, 'b.txt'), B0);
  writeFileSync(join(ws, 'c.ts'), C0);
  writeFileSync(join(ws, 'e.txt'), E0);
  let sawLineComment = false;
  const model = await startScriptedModel([
    // 1. read the three files, propose a change to each
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
    (req) => {
      sawLineComment = lastToolOutput(req).includes('keep const here');
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
    { text: 'Tried e.txt.' },
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
    await steps(vscode, ws, () => sawLineComment);
  } catch (err) {
    await shot(vscode, 'review-failed');
    throw err;
  }
});

async function steps(vscode: VsCode, ws: string, sawLineComment: () => boolean): Promise<void> {
  const { page } = vscode;
  await vscode.command('Deputy: Open Panel');
  let panel = await vscode.panel();
  const task = panel.getByRole('textbox', { name: 'Task', exact: true }).or(panel.locator('vscode-textarea.task textarea')).first();
  await task.waitFor({ timeout: 30_000 });
  await task.fill('Tidy a, b and c');
  await (await button(panel, 'Send')).click();

  // The card: three files, each with its counts and rationale.
  await (await button(panel, 'Approve a.txt', 60_000)).waitFor();
  await shot(vscode, 'review-01-card');

  // The whole changeset in the multi-file diff editor.
  await (await button(panel, 'Open all diffs')).click();
  await page.locator('.multiDiffEditor, .multi-diff-editor, [class*="multiDiff"]').first().waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-02-multi-diff');

  // b.txt in the native diff editor: drop its second hunk with the code lens, approve the rest from the title.
  await (await button(panel, 'Open diff b.txt')).click();
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 30_000 });
  const drop = page.locator('.monaco-diff-editor .codelens-decoration a', { hasText: 'Drop' });
  await waitFor(async () => (await drop.count()) >= 2, 30_000, () => 'the hunk lenses did not show');
  await shot(vscode, 'review-03-hunk-lenses');
  await drop.nth(1).click();
  panel = await vscode.panel();
  await panel.getByText('1 hunk dropped').first().waitFor({ timeout: 15_000 });
  // The lens redraws when VS Code next asks for lenses (debounced; slow on a loaded machine).
  await page.locator('.monaco-diff-editor .codelens-decoration', { hasText: 'Hunk 2 of 2: dropped' }).first().waitFor({ timeout: 90_000 });
  await titleAction(page, 'Approve This File');
  await shot(vscode, 'review-04-b-approved');

  // a.txt approved in the panel.
  await (await button(panel, 'Approve a.txt')).click();
  assert.equal(readFileSync(join(ws, 'a.txt'), 'utf8'), A0, 'nothing is written before every file is decided');

  // c.ts: a line comment on the proposed side, then Reject from the title.
  await (await button(panel, 'Open diff c.ts')).click();
  const modified = page.locator('.monaco-diff-editor .editor.modified').first();
  await modified.waitFor({ timeout: 30_000 });
  await modified.locator('.view-lines').click();
  await vscode.command('Add Comment on Current Selection');
  const commentInput = page.locator('.review-widget .monaco-editor textarea, .review-widget textarea, .comment-form textarea').first();
  await commentInput.waitFor({ timeout: 30_000 });
  await commentInput.focus();
  await page.keyboard.type('keep const here');
  await page.getByRole('button', { name: 'Add Comment for the Agent' }).first().click();
  await page.locator('.review-widget', { hasText: 'keep const here' }).first().waitFor({ timeout: 15_000 });
  await shot(vscode, 'review-05-line-comment');
  await titleAction(page, 'Reject This File');

  // Every file decided: a.txt and the kept hunk of b.txt land together; c.ts stays.
  await waitFor(async () => readFileSync(join(ws, 'a.txt'), 'utf8') === 'ALPHA\n', 60_000, () => 'a.txt was not applied');
  assert.equal(readFileSync(join(ws, 'b.txt'), 'utf8'), B_KEPT, 'b.txt has exactly the kept hunk');
  assert.equal(readFileSync(join(ws, 'c.ts'), 'utf8'), C0, 'the rejected file is untouched');

  // The agent revises with the comment in hand: round 2, approved as a whole.
  panel = await vscode.panel();
  await panel.getByText('round 2').first().waitFor({ timeout: 60_000 });
  assert.ok(sawLineComment(), 'the line comment reached the agent');
  await shot(vscode, 'review-06-round-2');
  await (await button(panel, 'Approve all')).click();
  await waitFor(async () => existsSync(join(ws, 'd.md')) && readFileSync(join(ws, 'c.ts'), 'utf8') === 'const x = 2;\n', 60_000, () => 'the revision was not applied');
  assert.equal(readFileSync(join(ws, 'd.md'), 'utf8'), '# Notes\n');
  await panel.getByText('Revised as you asked.').first().waitFor({ timeout: 30_000 });
  await shot(vscode, 'review-07-revision-applied');

  // One Undo takes the whole revision back (both files), then save.
  await vscode.command('Go to File');
  await page.keyboard.type('c.ts');
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines', { hasText: 'const x = 2;' }).first().click();
  await page.keyboard.press('Control+Z');
  const everywhere = page.getByRole('button', { name: /Undo in 2 Files|Undo in All Files/ });
  if (await everywhere.first().isVisible({ timeout: 5_000 }).catch(() => false)) await everywhere.first().click();
  await shot(vscode, 'review-08-undo');
  await vscode.command('File: Save All');
  await waitFor(async () => readFileSync(join(ws, 'c.ts'), 'utf8') === C0, 30_000, () => `c.ts after Undo: ${readFileSync(join(ws, 'c.ts'), 'utf8')}`);
  await waitFor(async () => !existsSync(join(ws, 'd.md')) || readFileSync(join(ws, 'd.md'), 'utf8') === '', 30_000, () => 'd.md survived the Undo');
  assert.equal(readFileSync(join(ws, 'a.txt'), 'utf8'), 'ALPHA\n', 'the earlier apply is not undone with it');

  // A conflict: the person edits e.txt while the agent's proposal waits; approving it keeps their edit.
  panel = await vscode.panel();
  const followUp = panel.getByRole('textbox', { name: 'Follow-up', exact: true }).or(panel.locator('.followup vscode-textarea textarea')).first();
  await followUp.fill('Now e.txt');
  await (await button(panel, 'Send')).click();
  await (await button(panel, 'Approve e.txt', 60_000)).waitFor();
  await vscode.command('Go to File');
  await page.keyboard.type('e.txt');
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines', { hasText: 'mine' }).first().click();
  await page.keyboard.press('End');
  await page.keyboard.type(' and my edit');
  panel = await vscode.panel();
  await (await button(panel, 'Approve e.txt')).click();
  await panel.getByText(/Conflict/).first().waitFor({ timeout: 60_000 });
  await (await button(panel, 'Show both versions of e.txt')).waitFor();
  await shot(vscode, 'review-09-conflict');
  assert.equal(readFileSync(join(ws, 'e.txt'), 'utf8'), E0, 'nothing was written over the file');
  await page.locator('.monaco-editor .view-lines', { hasText: 'mine and my edit' }).first().waitFor({ timeout: 10_000 });
}
