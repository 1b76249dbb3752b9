/**
 * The code-lens commands that take more than a click, in real VS Code (code-server, headless Chromium), against the
 * embedded runtime and the scripted model: "Dispatch with options…" on a `TODO(agent):` comment walks its four
 * steps (endpoint, model, budget — here an amount typed in tokens — and where the agent works) and the task runs
 * with the chosen model (the scripted model is asked for it) under the chosen budget (the panel's meter shows it);
 * the choices hold for that task only. "Write tests" on a function dispatches a task whose prompt names the
 * function, with its source attached. Screenshots: test-results/vscode-e2e/lens-cmd-*.png.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from 'playwright-core';
import { startScriptedModel, type RecordedRequest } from '../../fixtures/model-server.js';
import { answerInput, openFile, pick, sessionStatus, waitFor, withDeputy } from './code-server.js';

const SOURCE = `export function greet(name: string): string {
  // TODO(agent): greet people by their first name only
  return \`hello \${name}\`;
}
`;

const modelCalls = (requests: RecordedRequest[]) => requests.filter((r) => /\/(responses|chat\/completions)$/.test(r.path));

async function untilIdle(panel: Frame, text: string): Promise<void> {
  await panel.getByText(text).first().waitFor({ timeout: 60_000 });
  await waitFor(async () => (await sessionStatus(panel)).startsWith('Idle'), 60_000, () => `the session of "${text}" did not go idle`);
}

test('Dispatch with options… and the symbol action "Write tests", from their code lenses', { timeout: 12 * 60_000 }, async (t) => {
  const model = await startScriptedModel([{ text: 'First names it is.' }, { text: 'Tests for greet, coming up.' }]);
  t.after(() => model.close());
  await withDeputy(t, { name: 'lens-cmd', files: { 'src/greet.ts': SOURCE }, settings: { 'deputy.embedded.modelBaseUrl': model.baseURL, 'deputy.model': 'scripted' } }, async (vscode) => {
    const { page } = vscode;
    await openFile(page, 'greet.ts');
    const lens = (title: string) => page.locator('.contentWidgets .codelens-decoration a', { hasText: title }).first();
    // Generous: on a loaded machine the server's start and tsserver's first analysis take minutes.
    await lens('Dispatch with options…').waitFor({ timeout: 300_000 });

    // Dispatch with options…: the four steps, as a person answers them.
    await lens('Dispatch with options…').click();
    await page.locator('.quick-input-widget', { hasText: 'Dispatch with options (1/4): endpoint' }).waitFor({ timeout: 30_000 });
    await pick(page, 'embedded');
    await answerInput(page, 'Dispatch with options (2/4): model', 'scripted-large');
    await page.locator('.quick-input-widget', { hasText: 'Dispatch with options (3/4): budget' }).waitFor({ timeout: 30_000 });
    await vscode.shot('lens-cmd-01-budget-step');
    await pick(page, 'Other amount');
    await answerInput(page, 'US dollars', '50000tokens');
    await page.locator('.quick-input-widget', { hasText: 'Dispatch with options (4/4): where the agent works' }).waitFor({ timeout: 30_000 });
    await pick(page, "Deputy's tools");

    let panel = await vscode.panel();
    await untilIdle(panel, 'First names it is.');
    const first = modelCalls(model.requests).at(-1);
    assert.equal(first?.body?.model, 'scripted-large', 'the scripted model was asked for the chosen model');
    assert.match(JSON.stringify(first?.body), /greet people by their first name only/);
    const meter = panel.getByRole('meter', { name: 'Task budget' });
    await meter.waitFor({ timeout: 30_000 });
    assert.match((await meter.getAttribute('aria-valuetext')) ?? '', /\/ 50,000 tokens$/, 'the task runs under the chosen budget');
    await vscode.shot('lens-cmd-02-with-options');

    // "Write tests" on the function: a task naming it, with its source; the options above were for that task only.
    await openFile(page, 'greet.ts');
    await lens('Write tests').waitFor({ timeout: 300_000 });
    await lens('Write tests').click();
    panel = await vscode.panel();
    await untilIdle(panel, 'Tests for greet, coming up.');
    const second = modelCalls(model.requests).at(-1);
    const sent = JSON.stringify(second?.body);
    assert.match(sent, /Write tests for the function `greet` in src\/greet\.ts\./);
    assert.match(sent, /return `hello/, 'the function\'s source is attached');
    assert.equal(second?.body?.model, 'scripted', 'the model setting is back for the next task');
    assert.equal(await panel.getByRole('meter', { name: 'Task budget' }).count(), 0, 'no budget on a task without one');
    await vscode.shot('lens-cmd-03-write-tests');
  });
});
