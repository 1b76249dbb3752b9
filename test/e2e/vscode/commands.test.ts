/**
 * Deputy's palette commands in real VS Code (code-server), driven as a person would: F1, the command's title, its
 * quick picks and input boxes, and the save dialog. A task proposes a change; "New Task" leaves it and "Review
 * Changes" brings the proposal back; "Show Sessions" reopens the session; "Stop Session" stops a turn that waits on
 * a question; "Export Audit Trail" writes the trail as JSONL and as OTLP/JSON where the dialog says; "Verify Audit
 * Trail" reports the chain; "Open Audit Folder" shows it in the Explorer; "Show Log" shows Deputy's log; "Select
 * Endpoint" switches to a runtime URL, which the panel and the workspace settings then show. Screenshots go to
 * test-results/vscode-e2e/commands-*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { startScriptedModel } from '../../fixtures/model-server.js';
import { ROOT, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

async function button(panel: Frame, name: string, timeout = 60_000) {
  const b = panel.getByRole('button', { name, exact: true }).last();
  await b.waitFor({ state: 'visible', timeout });
  return b;
}

const statusText = async (panel: Frame) => (await panel.getByRole('status', { name: 'Session status' }).first().textContent().catch(() => '')) ?? '';

/** Picks the quick-pick row with this label (the palette's next step after a command), as a person would: type, Enter. */
async function pick(page: Page, label: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 30_000 });
  await input.fill(label);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: label }).first().waitFor({ timeout: 10_000 });
  await input.press('Enter');
}

/** Accepts the save dialog (code-server's own file dialog, a quick input holding the path) at the path it offers. */
async function acceptSaveDialog(page: Page, expectedPath: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await waitFor(async () => (await input.inputValue().catch(() => '')).endsWith(basename(expectedPath)), 30_000, () => `the save dialog did not offer ${expectedPath}`);
  await input.press('Enter');
}

async function notification(page: Page, text: string | RegExp): Promise<string> {
  const toast = page.locator('.notification-list-item', { hasText: text }).first();
  await toast.waitFor({ timeout: 60_000 });
  return (await toast.textContent()) ?? '';
}

test('Deputy in VS Code: the palette commands do what they say', { timeout: 15 * 60_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-commands-'));
  writeFileSync(join(ws, '.env'), 'API_URL=http://localhost\n');
  writeFileSync(join(ws, 'README.md'), '# commands\n');
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'propose_changes', callId: 'call_change', arguments: { summary: 'add hello', changes: [{ path: 'hello.txt', operation: 'create', diff: '+hello from deputy\n' }] } }] },
    { text: 'Created hello.txt for you.' },
    // A follow-up that asks, stopped from the palette.
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env' }] },
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
    await steps(vscode, ws);
  } catch (err) {
    await vscode.shot('commands-failed');
    throw err;
  }
});

async function steps(vscode: VsCode, ws: string): Promise<void> {
  const { page } = vscode;
  await vscode.command('Deputy: Open Panel');
  let panel = await vscode.panel();
  const task = panel.getByRole('textbox', { name: 'Task', exact: true }).or(panel.locator('vscode-textarea.task textarea')).first();
  await task.waitFor({ timeout: 30_000 });
  await task.fill('Add a hello file');
  await (await button(panel, 'Send')).click();
  await (await button(panel, 'Approve hello.txt')).waitFor();

  // New Task: the panel leaves the session for an empty task form.
  await vscode.command('Deputy: New Task');
  await waitFor(async () => (await panel.getByRole('button', { name: 'Approve hello.txt', exact: true }).count()) === 0, 30_000, () => 'New Task did not leave the session');
  await task.waitFor({ state: 'visible', timeout: 30_000 });
  assert.equal(await task.inputValue(), '', 'New Task opens an empty task');
  await vscode.shot('commands-01-new-task');

  // Review Changes: back to the proposal waiting for review; approved, it is on disk.
  await vscode.command('Deputy: Review Changes');
  panel = await vscode.panel();
  await (await button(panel, 'Approve hello.txt', 30_000)).waitFor();
  await vscode.shot('commands-02-review-changes');
  await (await button(panel, 'Approve hello.txt')).click();
  await waitFor(async () => existsSync(join(ws, 'hello.txt')), 30_000, () => 'hello.txt was not written');
  await panel.getByText('Created hello.txt for you.').first().waitFor({ timeout: 30_000 });
  await waitFor(async () => (await statusText(panel)).startsWith('Idle'), 30_000, () => 'the session did not go idle');

  // Show Sessions: the session, picked from the list, opens in the panel.
  await vscode.command('Deputy: New Task');
  await waitFor(async () => (await panel.getByText('Created hello.txt for you.').count()) === 0, 30_000, () => 'New Task did not leave the session');
  await vscode.command('Deputy: Show Sessions');
  await pick(page, 'Add a hello file');
  await panel.getByText('Created hello.txt for you.').first().waitFor({ timeout: 30_000 });
  await vscode.shot('commands-03-show-sessions');

  // Stop Session: a turn waiting on a question, stopped from the palette.
  const follow = panel.getByRole('textbox', { name: 'Follow-up', exact: true }).or(panel.locator('.followup vscode-textarea textarea')).first();
  await follow.fill('Read .env');
  await (await button(panel, 'Send')).click();
  await (await button(panel, 'Allow once')).waitFor();
  await vscode.command('Deputy: Stop Session');
  await waitFor(async () => (await statusText(panel)).startsWith('Stopped'), 60_000, () => 'the session did not show Stopped');
  assert.equal(await panel.getByRole('button', { name: 'Allow once', exact: true }).count(), 0, 'the stopped turn\'s question is withdrawn');
  await vscode.shot('commands-04-stopped');

  // Export Audit Trail, as JSONL: the chain as stored, where the save dialog said.
  const jsonl = join(ws, 'deputy-audit.jsonl');
  await vscode.command('Deputy: Export Audit Trail');
  await pick(page, 'jsonl');
  await acceptSaveDialog(page, jsonl);
  await waitFor(async () => existsSync(jsonl), 60_000, () => `${jsonl} was not written`);
  const records = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; prev_hash?: string; hash?: string });
  const types = records.map((r) => r.type);
  for (const kind of ['task.started', 'changeset.proposed', 'changeset.approved', 'changeset.applied', 'prompt.asked']) assert.ok(types.includes(kind), `${kind} in the JSONL export (${types.join(', ')})`);
  assert.ok(records.every((r) => typeof r.hash === 'string'), 'every exported record keeps its hash');
  await vscode.shot('commands-05-export-jsonl');

  // Export Audit Trail, as OTLP/JSON: traces a collector accepts, one span tree per session.
  const otlp = join(ws, 'deputy-audit.otlp.json');
  await vscode.command('Deputy: Export Audit Trail');
  await pick(page, 'otlp');
  await acceptSaveDialog(page, otlp);
  await waitFor(async () => existsSync(otlp), 60_000, () => `${otlp} was not written`);
  const traces = JSON.parse(readFileSync(otlp, 'utf8')) as {
    resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[];
  };
  const resource = traces.resourceSpans[0]!;
  assert.equal(resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue, 'deputy');
  const spans = resource.scopeSpans.flatMap((s) => s.spans);
  assert.ok(spans.length >= 2, `spans for the session and its tool calls (${spans.map((s) => s.name).join(', ')})`);
  assert.ok(spans.every((s) => /^[0-9a-f]{32}$/.test(s.traceId)), 'OTLP trace ids');
  await vscode.shot('commands-06-export-otlp');

  // Verify Audit Trail: the chain, checked, reported for the folder.
  await vscode.command('Deputy: Verify Audit Trail');
  const verified = await notification(page, `Audit trail of ${basename(ws)}`);
  assert.doesNotMatch(verified, /broken|tamper|fail/i);
  assert.match(verified, /intact: \d+ records?/);
  await vscode.shot('commands-07-verified');

  // Open Audit Folder: in a browser window, the trail's file shown in the Explorer.
  await vscode.command('Deputy: Open Audit Folder');
  await page.locator('.explorer-folders-view .monaco-list-row.selected', { hasText: 'audit.jsonl' }).first().waitFor({ timeout: 30_000 });
  await vscode.shot('commands-08-audit-folder');

  // Show Log: Deputy's log in the Output panel.
  await vscode.command('Deputy: Show Log');
  await page.locator('.output-view, .part.panel', { hasText: 'Deputy activated in' }).first().waitFor({ timeout: 30_000 });
  await vscode.shot('commands-09-log');

  // Select Endpoint: a runtime URL, typed in its input box; the panel's new-task form and the workspace settings show it.
  const url = 'http://127.0.0.1:8739';
  await vscode.command('Deputy: Select Endpoint');
  await pick(page, 'url');
  const urlBox = page.locator('.quick-input-widget input');
  await waitFor(async () => (await page.locator('.quick-input-widget', { hasText: 'URL of the Deputy runtime' }).count()) > 0, 30_000, () => 'no URL input box');
  await urlBox.fill(url);
  await urlBox.press('Enter');
  const settingsFile = join(ws, '.vscode', 'settings.json');
  await waitFor(async () => existsSync(settingsFile) && readFileSync(settingsFile, 'utf8').includes(url), 30_000, () => 'the endpoint was not written to the workspace settings');
  assert.equal((JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>)['deputy.endpoint'], url);
  // The new-task form shows the endpoint a task would go to. New Task from the palette while the panel is hidden
  // (the Explorer shown instead) opens the form, not the session the panel showed before (it did, before the
  // webview's restored selection started to travel with its `ready`).
  await vscode.command('View: Show Explorer');
  await vscode.command('Deputy: New Task');
  panel = await vscode.panel();
  await panel.getByRole('textbox', { name: 'Task', exact: true }).or(panel.locator('vscode-textarea.task textarea')).first().waitFor({ state: 'visible', timeout: 30_000 });
  const endpoint = panel.locator('vscode-single-select[label="Endpoint"]').first();
  await waitFor(async () => (await endpoint.evaluate((el) => (el as unknown as { value: string }).value).catch(() => '')) === url, 30_000, () => 'the panel does not show the new endpoint');
  await vscode.shot('commands-10-endpoint');
}
