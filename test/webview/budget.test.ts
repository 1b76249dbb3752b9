// The budget in the built panel (dist/webview.js), in headless Chromium under the extension's CSP: the live meter
// moved by `budget` events, the 80% warning in the transcript, the budget-reached message with its "Raise budget"
// action naming the session and the budget, and a task budget typed in tokens.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launch, openPanel, RESULTS, servePanel, type Panel, type PanelServer } from './fixtures/panel-page.js';
import { EventLog, settingsMessage, summary } from './fixtures/events.js';

const S = 'sess_budget';
let server: PanelServer;
let browser: Browser;

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  server = await servePanel();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const PER_TEST = { timeout: 180_000 };

/** What a person can read of the task meter (its accessible value). */
async function meter(panel: Panel, name: string): Promise<string | null> {
  return panel.page.getByRole('meter', { name, exact: true }).getAttribute('aria-valuetext');
}

test('the meter follows the usage, warns at 80%, and the stop says what to do with the action as a button', PER_TEST, async () => {
  const panel = await openPanel(browser, server);
  await panel.deliver(settingsMessage(), { type: 'state', sessions: [summary(S)], selectedSessionId: S });
  const log = new EventLog(S);
  const meters = (spent: number) => [{ scope: 'task' as const, unit: 'usd' as const, spent, limit: 0.5 }];
  await panel.deliver({
    type: 'events',
    sessionId: S,
    replace: true,
    events: [
      log.next('session.started', { taskId: 'task_1', task: 'Loop over the README', endpoint: 'embedded', model: 'gpt-4.1', folder: 'app', budgetUsd: 0.5, attached: false }),
      log.next('session.status', { status: 'running' }),
      log.next('budget', { meters: meters(0.2) }),
    ],
  });
  const { page } = panel;
  assert.equal(await meter(panel, 'Task budget'), '$0.20 / $0.50');
  await panel.deliver({
    type: 'events',
    sessionId: S,
    replace: false,
    events: [log.next('budget', { meters: meters(0.4), change: 'warning', message: "This task's budget is 80% spent ($0.40 of $0.50). Deputy stops the agent at 100%." })],
  });
  await panel.settle();
  assert.equal(await meter(panel, 'Task budget'), '$0.40 / $0.50');
  assert.ok(await page.getByText("This task's budget is 80% spent ($0.40 of $0.50)").isVisible(), 'the warning is in the transcript');
  await panel.deliver({
    type: 'events',
    sessionId: S,
    replace: false,
    events: [
      log.next('budget', { meters: meters(0.6), change: 'reached', message: 'Budget reached' }),
      log.next('error', {
        kind: 'budgetReached',
        message: "Budget reached: this task's budget of $0.50 is spent ($0.60), so Deputy stops the agent and sends it nothing more until you raise the budget.",
        action: { kind: 'raiseBudget', scope: 'task' },
        fatal: true,
      }),
      log.next('turn.ended', { turnId: 't1', outcome: 'failed', error: 'Budget reached' }),
      log.next('session.status', { status: 'failed' }),
    ],
  });
  await panel.settle();
  assert.equal(await meter(panel, 'Task budget'), '$0.60 / $0.50, reached');
  assert.ok(await page.getByText("Budget reached: this task's budget of $0.50 is spent ($0.60)").isVisible());
  await page.getByRole('button', { name: 'Raise budget', exact: true }).click();
  assert.deepEqual(await panel.postedOf('runAction'), [{ type: 'runAction', action: { kind: 'raiseBudget', scope: 'task' }, sessionId: S }]);
  // A person raised it (in the editor): the meter starts over and the transcript says who did.
  await panel.deliver({
    type: 'events',
    sessionId: S,
    replace: false,
    events: [log.next('budget', { meters: [{ scope: 'task', unit: 'usd', spent: 0.6, limit: 2 }, { scope: 'day', unit: 'tokens', spent: 300_000, limit: 1_000_000 }], change: 'raised', message: 'arn:aws:iam::1:user/dev set this task\'s budget to $2.00 (was $0.50).' })],
  });
  await panel.settle();
  assert.equal(await meter(panel, 'Task budget'), '$0.60 / $2.00');
  assert.equal(await meter(panel, "Today's budget"), '300,000 tokens / 1,000,000 tokens');
  assert.ok(await page.getByText("set this task's budget to $2.00 (was $0.50)").isVisible());
  await page.screenshot({ path: join(RESULTS, 'budget.png'), fullPage: true });
  assert.deepEqual(await panel.problems(), [], 'no CSP violation or page error');
  await page.close();
});

test('a task budget typed in tokens goes out as tokens', PER_TEST, async () => {
  const panel = await openPanel(browser, server);
  await panel.deliver(settingsMessage(), { type: 'state', sessions: [], selectedSessionId: null });
  const { page } = panel;
  await page.getByRole('textbox', { name: 'Task', exact: true }).fill('Do it');
  await page.getByRole('textbox', { name: 'Budget (optional): US dollars or tokens' }).fill('50k tokens');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  assert.deepEqual(await panel.postedOf('newTask'), [{ type: 'newTask', prompt: 'Do it', budgetTokens: 50_000, attachSelection: false, attachFile: false }]);
  await page.close();
});
