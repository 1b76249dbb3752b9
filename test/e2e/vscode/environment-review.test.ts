/**
 * A task with Deputy as the agent's environment, in real VS Code (code-server) driven by headless Chromium, against
 * the embedded runtime and the scripted model (issue 9 §5, "a changeset from the environment path reviewed the same
 * way"): the panel's task form dispatches it with "Deputy's environment" on; the agent's `apply_patch` lands in the
 * shadow, not the folder; at the end of the turn its changeset comes to the same card as `propose_changes`; "Open diff"
 * opens VS Code's diff editor on the proposal, and the file is approved from the diff editor's title; the file is
 * then written through the editor (its open editor shows the new text) and the session goes idle.
 * Screenshots go to test-results/vscode-e2e/env-*.png.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { startScriptedModel } from '../../fixtures/model-server.js';
import { makeRepo } from '../../helpers/git.js';
import { ROOT, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

const PATCH = ['*** Begin Patch', '*** Update File: app.txt', '@@', '-line two', '+line 2, from the shadow', '*** End Patch', ''].join('\n');

async function button(panel: Frame, name: string, timeout = 60_000) {
  const b = panel.getByRole('button', { name, exact: true }).last();
  await b.waitFor({ state: 'visible', timeout });
  return b;
}

test("Deputy in VS Code: an environment task's shadow changeset is reviewed in the diff editor and approved", { timeout: 15 * 60_000 }, async (t) => {
  const repo = await makeRepo({ 'app.txt': 'line one\nline two\n' });
  t.after(() => repo.cleanup());
  const ws = repo.root;
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'apply_patch', callId: 'call_patch', kind: 'custom', arguments: PATCH }] },
    { text: 'Changed line two in my copy.' },
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
    },
  });
  t.after(() => vscode.close());
  try {
    await steps(vscode, ws, model.requests);
  } catch (err) {
    await vscode.shot('env-failed');
    throw err;
  }
});

async function steps(vscode: VsCode, ws: string, requests: { path: string; body: unknown }[]): Promise<void> {
  const { page } = vscode;
  await vscode.command('Deputy: Open Panel');
  const panel = await vscode.panel();
  const task = panel.getByRole('textbox', { name: 'Task', exact: true }).or(panel.locator('vscode-textarea.task textarea')).first();
  await task.waitFor({ timeout: 30_000 });
  await task.fill('Spell line two as a number');
  // Deputy as the agent's environment, for this task.
  await panel.getByText('Loading settings…').waitFor({ state: 'detached', timeout: 60_000 });
  const place = panel.locator('vscode-checkbox[label="Deputy\'s environment"]').first();
  await place.click();
  await waitFor(async () => (await place.evaluate((el) => (el as unknown as { checked: boolean }).checked)) === true, 10_000, () => "the Deputy's environment box did not tick");
  await vscode.shot('env-01-task');
  await (await button(panel, 'Send')).click();

  // The end-of-turn changeset, on the same card as propose_changes.
  await (await button(panel, 'Approve app.txt', 180_000)).waitFor();
  await vscode.shot('env-02-changeset');
  assert.equal(readFileSync(join(ws, 'app.txt'), 'utf8'), 'line one\nline two\n', 'nothing reaches the folder before the review');
  // The session was made with Deputy as its environment: the endpoint's own tools, not Deputy's client tools.
  const first = requests.find((r) => r.path.endsWith('/responses'))?.body as { tools?: Array<{ name: string }> } | undefined;
  const tools = (first?.tools ?? []).map((x) => x.name);
  assert.ok(tools.includes('apply_patch') && !tools.includes('propose_changes'), tools.join(','));

  // Open diff: VS Code's diff editor, the proposal on the right.
  await (await button(panel, 'Open diff app.txt')).click();
  const diff = page.locator('.monaco-diff-editor').first();
  await diff.waitFor({ state: 'visible', timeout: 60_000 });
  // Monaco draws spaces as no-break spaces.
  const shown = async (where: { textContent(): Promise<string | null> }) => ((await where.textContent().catch(() => '')) ?? '').replace(/\u00a0/g, ' ');
  await waitFor(async () => /line 2, from the shadow/.test(await shown(diff)), 30_000, () => 'the proposal is not on the diff editor');
  await vscode.shot('env-03-diff');

  // Approved from the diff editor's title.
  const approve = page.locator('.editor-actions .action-label[aria-label^="Approve This File"]').first();
  await approve.waitFor({ state: 'visible', timeout: 30_000 });
  await approve.click();
  await waitFor(async () => readFileSync(join(ws, 'app.txt'), 'utf8') === 'line one\nline 2, from the shadow\n', 60_000, () => `app.txt was not written: ${JSON.stringify(readFileSync(join(ws, 'app.txt'), 'utf8'))}`);
  await panel.getByText('Changed line two in my copy.').first().waitFor({ timeout: 60_000 });
  await waitFor(
    async () => ((await panel.getByRole('status', { name: 'Session status' }).first().textContent().catch(() => '')) ?? '').startsWith('Idle'),
    60_000,
    () => 'the session did not go idle',
  );
  await vscode.shot('env-04-applied');

  // Written through the editor: the file opened in VS Code shows the approved text and is not dirty.
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill('app.txt');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'app.txt' }).first().waitFor({ timeout: 15_000 });
  await input.press('Enter');
  await waitFor(async () => /line 2, from the shadow/.test(await shown(page.locator('.editor-instance .view-lines').last())), 30_000, () => 'the editor does not show the approved text');
  assert.equal(await page.locator('.tab.active.dirty').count(), 0, 'the approved file is saved');
  await vscode.shot('env-05-editor');
}
