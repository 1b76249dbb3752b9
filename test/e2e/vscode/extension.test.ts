/**
 * Deputy in real VS Code (code-server) driven by headless Chromium: the packaged .vsix installed, a workspace open,
 * the panel dispatching a task to the embedded runtime (scripted model), a prompt answered, a change approved and
 * found on disk, a follow-up, Stop, a window reload that reattaches the session with its open prompt, and the
 * `@deputy` chat participant dispatching a task, and a question answered from a notification while the panel is hidden. Screenshots of every step go to test-results/vscode-e2e/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { startScriptedModel, type ScriptEntry } from '../../fixtures/model-server.js';
import { ROOT, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

const readEnv = (id: string): ScriptEntry => ({ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: id }] });

async function button(panel: Frame, name: string, timeout = 30_000) {
  const b = panel.getByRole('button', { name, exact: true }).last();
  await b.waitFor({ state: 'visible', timeout });
  return b;
}

async function statusText(panel: Frame): Promise<string> {
  return (await panel.getByRole('status', { name: 'Session status' }).first().textContent().catch(() => '')) ?? '';
}

test('Deputy in VS Code: task, prompt, review, follow-up, stop, reload, @deputy', { timeout: 15 * 60_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-ws-'));
  writeFileSync(join(ws, '.env'), 'API_URL=http://localhost\n');
  writeFileSync(join(ws, 'README.md'), '# demo\n');
  const model = await startScriptedModel([
    // 1. the task: read .env (asks), propose a file (review), then a summary
    readEnv('call_env_1'),
    { toolCalls: [{ name: 'propose_changes', callId: 'call_change', arguments: { summary: 'add hello', changes: [{ path: 'hello.txt', operation: 'create', diff: '+hello from deputy\n' }] } }] },
    { text: 'Created hello.txt for you.' },
    // 2. the follow-up
    { text: 'It greets the reader.' },
    // 3. a follow-up that asks again, then is stopped
    readEnv('call_env_2'),
    // 4. after the reload: the same kind of question, answered, and the turn ends
    readEnv('call_env_3'),
    { text: 'Read it after the reload.' },
    // 5. a question while the panel is hidden (late enough for the test to hide the panel first)
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env_4' }], delayMs: 15_000 },
    { text: 'Read it while you looked away.' },
    // 6. @deputy in the Chat view
    { text: 'Hello from the chat participant.' },
  ]);
  t.after(() => model.close());
  const vsix = packageVsix(ROOT);
  const lmProvider = packageVsix(join(__dirname, 'lm-provider'), ['--skip-license', '--allow-missing-repository']);
  const vscode: VsCode = await launch({
    vsix,
    extraVsix: [lmProvider],
    workspace: ws,
    settings: {
      'deputy.embedded.modelBaseUrl': model.baseURL,
      'deputy.model': 'scripted',
      'workbench.startupEditor': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.commandCenter.enabled': false,
    },
  });
  t.after(() => vscode.close());
  try {
    await steps(vscode, ws);
  } catch (err) {
    await vscode.shot('failed');
    throw err;
  }
});

async function steps(vscode: VsCode, ws: string): Promise<void> {
  await vscode.shot('01-workbench');

  // Open the panel and dispatch a task.
  await vscode.command('Deputy: Open Panel');
  let panel = await vscode.panel();
  await vscode.shot('02-panel');
  // The task box by its accessible name (DESIGN.md §9), or by its class where code-server's Chromium names it by
  // its placeholder (the webview's own tests hold the name).
  const task = panel.getByRole('textbox', { name: 'Task', exact: true }).or(panel.locator('vscode-textarea.task textarea')).first();
  await task.waitFor({ timeout: 30_000 });
  await task.fill('Add a hello file');
  await (await button(panel, 'Send')).click();

  // The permission prompt, answered in the panel.
  await (await button(panel, 'Allow once')).waitFor();
  await vscode.shot('03-prompt');
  await (await button(panel, 'Allow once')).click();

  // The proposed change, approved, and on disk.
  await (await button(panel, 'Approve hello.txt')).waitFor();
  await vscode.shot('04-changeset');
  assert.equal(existsSync(join(ws, 'hello.txt')), false, 'nothing written before approval');
  await (await button(panel, 'Approve hello.txt')).click();
  // The editor creates the file and then saves its text: wait for the text, not just the file.
  const hello = () => (existsSync(join(ws, 'hello.txt')) ? readFileSync(join(ws, 'hello.txt'), 'utf8') : null);
  await waitFor(async () => hello() === 'hello from deputy\n', 30_000, () => `hello.txt holds ${JSON.stringify(hello())}`);
  await panel.getByText('Created hello.txt for you.').first().waitFor({ timeout: 30_000 });
  await waitFor(async () => (await statusText(panel)).startsWith('Idle'), 30_000, () => 'session did not go idle');
  await vscode.shot('05-applied');

  // A follow-up in the same session.
  const followUpBox = (p: Frame) => p.getByRole('textbox', { name: 'Follow-up', exact: true }).or(p.locator('.followup vscode-textarea textarea')).first();
  const follow = followUpBox(panel);
  await follow.fill('What does it say?');
  await (await button(panel, 'Send')).click();
  await panel.getByText('It greets the reader.').first().waitFor({ timeout: 30_000 });
  await waitFor(async () => (await statusText(panel)).startsWith('Idle'), 30_000, () => 'session did not go idle after the follow-up');
  await vscode.shot('06-follow-up');

  // A turn that asks, stopped: the question is withdrawn and the turn ends stopped.
  await follow.fill('Read .env again');
  await (await button(panel, 'Send')).click();
  await (await button(panel, 'Allow once')).waitFor();
  await (await button(panel, 'Stop')).click();
  await waitFor(async () => (await statusText(panel)).startsWith('Stopped'), 30_000, () => "the session did not show Stopped");
  await vscode.shot('07-stopped');

  // A turn that asks, then the window reloads: the session reattaches and its question comes back.
  await follow.fill('Read .env once more');
  await (await button(panel, 'Send')).click();
  await (await button(panel, 'Allow once')).waitFor();
  await vscode.shot('08-before-reload');
  await vscode.reload();
  await vscode.command('Deputy: Open Panel');
  panel = await vscode.panel();
  // The panel may come back on the session already (it remembers the selection), or on the list: open it there.
  await panel
    .getByRole('button', { name: /Add a hello file/ })
    .first()
    .click({ timeout: 5_000 })
    .catch(() => undefined);
  await (await button(panel, 'Allow once', 60_000)).waitFor();
  await vscode.shot('09-reattached');
  await (await button(panel, 'Allow once')).click();
  await panel.getByText('Read it after the reload.').first().waitFor({ timeout: 30_000 });
  await vscode.shot('10-answered-after-reload');

  // While the panel is hidden, a question comes as a notification with the same choices. The reattach above may have
  // left a notification for the question answered in the panel (same words): clear it, so the one clicked is new.
  await vscode.command('Notifications: Clear All Notifications');
  await followUpBox(panel).fill('Read .env while I look elsewhere');
  await (await button(panel, 'Send')).click();
  await vscode.command('View: Show Explorer');
  const toast = vscode.page.locator('.notification-list-item', { hasText: 'Deputy: the agent wants to' }).first();
  await toast.waitFor({ timeout: 60_000 }).catch(async () => {
    // A toast that hid itself is still in the notification center.
    await vscode.command('Notifications: Show Notifications');
    await toast.waitFor({ timeout: 10_000 });
  });
  await vscode.shot('11-hidden-prompt');
  await toast.getByRole('button', { name: 'Allow once' }).click();
  await vscode.command('Deputy: Open Panel');
  panel = await vscode.panel();
  await panel.getByText('Read it while you looked away.').first().waitFor({ timeout: 60_000 });
  await vscode.shot('12-answered-from-notification');

  // @deputy in the Chat view dispatches a task.
  await vscode.command('Chat: Open Chat');
  const chatInput = vscode.page.locator('.interactive-input-editor textarea, .interactive-input-editor .native-edit-context').first();
  await chatInput.waitFor({ timeout: 30_000 });
  // The chat input's decorations sit over it: focus it without a pointer click.
  await chatInput.click({ force: true });
  await vscode.page.keyboard.type('@deputy say hello');
  await vscode.page.keyboard.press('Enter');
  await vscode.page.getByText('Hello from the chat participant.').first().waitFor({ timeout: 60_000 });
  await vscode.shot('13-chat');
}
