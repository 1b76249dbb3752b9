/**
 * Deputy's code lenses and audit timeline in real VS Code (code-server) driven by headless Chromium: a file with a
 * `TODO(agent):` comment gets "Dispatch to agent" (served by Deputy's language server, which the marker starts) and
 * the function/class actions; the lens dispatches the marker's task with the enclosing function attached; the task
 * runs against the scripted model, its change is approved; the session's audit timeline shows its events and the
 * chain "verified". Screenshots go to test-results/vscode-e2e/lens-*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { startScriptedModel } from '../../fixtures/model-server.js';
import { ROOT, failure, launch, packageVsix, waitFor, type VsCode } from './code-server.js';

const SOURCE = `export function greet(name: string): string {
  // TODO(agent): write a greeting file for the team
  return \`hello \${name}\`;
}
`;

async function button(panel: Frame, name: string, timeout = 60_000) {
  const b = panel.getByRole('button', { name, exact: true }).last();
  await b.waitFor({ state: 'visible', timeout });
  return b;
}

test('Deputy in VS Code: a TODO(agent) lens dispatches a task; the audit timeline shows it, verified', { timeout: 15 * 60_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-e2e-lens-'));
  mkdirSync(join(ws, 'src'));
  writeFileSync(join(ws, 'src', 'greet.ts'), SOURCE);
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'propose_changes', callId: 'call_greeting', arguments: { summary: 'greeting', changes: [{ path: 'GREETING.md', operation: 'create', diff: '+Hello, team!\n' }] } }] },
    { text: 'Wrote GREETING.md.' },
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
    throw await failure(vscode, 'lens', err);
  }
});

async function steps(vscode: VsCode, ws: string, requests: { path: string; body: unknown }[]): Promise<void> {
  const { page } = vscode;
  // Open the file: the marker in it starts Deputy's server, which serves the marker lenses.
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill('greet.ts');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'greet.ts' }).first().waitFor({ timeout: 15_000 });
  await input.press('Enter');
  const lens = (title: string) => page.locator('.contentWidgets .codelens-decoration a', { hasText: title }).first();
  // Generous: on a loaded machine the server's start and tsserver's first analysis take minutes.
  await lens('Dispatch to agent').waitFor({ timeout: 300_000 });
  await lens('Dispatch with options…').waitFor({ timeout: 10_000 });
  // The function's own actions, from the language's symbol provider.
  await lens('Write tests').waitFor({ timeout: 300_000 });
  await lens('Explain').waitFor({ timeout: 10_000 });
  await vscode.shot('lens-01-lenses');

  await lens('Dispatch to agent').click();
  const panel = await vscode.panel();
  await (await button(panel, 'Approve GREETING.md')).waitFor();
  await vscode.shot('lens-02-changeset');
  // The marker's text is the task, with where it came from and the enclosing function's source attached.
  const sent = JSON.stringify(requests.find((r) => r.path === '/v1/responses')?.body ?? '');
  assert.match(sent, /write a greeting file for the team/);
  assert.match(sent, /src\/greet\.ts:2/);
  assert.match(sent, /function `greet`/);
  assert.match(sent, /return `hello/);

  await (await button(panel, 'Approve GREETING.md')).click();
  // The editor creates the file and then saves its text: wait for the text, not just the file.
  const greeting = () => (existsSync(join(ws, 'GREETING.md')) ? readFileSync(join(ws, 'GREETING.md'), 'utf8') : null);
  await waitFor(async () => greeting() === 'Hello, team!\n', 30_000, () => `GREETING.md holds ${JSON.stringify(greeting())}`);
  await panel.getByText('Wrote GREETING.md.').first().waitFor({ timeout: 30_000 });
  await waitFor(
    async () => ((await panel.getByRole('status', { name: 'Session status' }).first().textContent().catch(() => '')) ?? '').startsWith('Idle'),
    30_000,
    () => 'the session did not go idle',
  );

  // The audit timeline: the session's events, and the chain verified by the server.
  await (await button(panel, 'Audit trail')).click();
  const chain = panel.getByRole('status', { name: 'Audit chain' });
  await waitFor(async () => /Chain verified/.test((await chain.textContent().catch(() => '')) ?? ''), 30_000, () => 'the chain was not shown verified');
  const timeline = panel.getByRole('list', { name: 'Audit timeline' });
  // The last records of the turn land just after it ends: "Verify again" until they show.
  await waitFor(
    async () => {
      if ((await timeline.getByRole('listitem', { name: /task\.finished/ }).count()) > 0) return true;
      await (await button(panel, 'Verify again')).click();
      return false;
    },
    30_000,
    () => 'task.finished never appeared on the timeline',
  );
  const shown = async () => (await timeline.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()).join('\n');
  for (const kind of ['task.started', 'message.user', 'changeset.proposed', 'changeset.approved', 'changeset.applied', 'usage']) {
    assert.ok((await timeline.getByRole('listitem', { name: new RegExp(kind.replace('.', '\\.')) }).count()) > 0, `${kind} on the timeline:\n${await shown()}`);
  }
  await vscode.shot('lens-03-timeline-verified');
}
