// The audit timeline in the built panel (headless Chromium, the extension's own page and CSP): opened from a session,
// it asks the extension for the trail, shows every event with who acted, the decision and its rule, files, tokens;
// filters by kind; shows the chain verified or broken at the record the server named; its buttons ask the extension.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { toEntry } from '../../src/core/audit-timeline.js';
import type { AuditEventType, AuditRecord } from '../../src/core/audit-record.js';
import type { AuditTimelineData, ToWebview } from '../../src/protocol/webview.js';
import { launch, openPanel, RESULTS, servePanel, type Panel, type PanelServer } from './fixtures/panel-page.js';
import { settingsMessage, summary } from './fixtures/events.js';

const S = 'sess_audit';
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

/** Records as the engine writes them (hashes are not the panel's business: the server verified the chain). */
function records(): AuditRecord[] {
  const rows: [AuditEventType, Record<string, unknown>][] = [
    ['task.started', { task: 'Add input validation' }],
    ['session.created', { model: 'scripted', endpoint: 'embedded' }],
    ['message.user', { text: 'Add input validation' }],
    ['tool.call', { call_id: 'c1', tool: 'workspace_read', summary: 'read .env' }],
    ['policy.decision', { call_id: 'c1', tool: 'workspace_read', decision: 'ask', reason: 'built-in rule: the file may hold credentials' }],
    ['prompt.asked', { call_id: 'c1', tool: 'workspace_read', summary: 'read .env', reason: 'built-in rule' }],
    ['prompt.answered', { call_id: 'c1', tool: 'workspace_read', answer: 'allow' }],
    ['tool.result', { call_id: 'c1', tool: 'workspace_read', success: true }],
    ['tool.call', { call_id: 'c2', tool: 'propose_changes', summary: 'validate \u202eexe.sj input' }],
    ['policy.decision', { call_id: 'c2', tool: 'propose_changes', path: 'src/app.ts', decision: 'allow', reason: 'workspace policy rule 2' }],
    ['changeset.proposed', { call_id: 'c2', summary: 'validate', files: [{ path: 'src/app.ts' }, { path: 'src/app.test.ts' }] }],
    ['changeset.approved', { call_id: 'c2', path: 'src/app.ts', approver: 'arn:aws:sts::123456789012:assumed-role/Dev/alice' }],
    ['changeset.rejected', { call_id: 'c2', path: 'src/app.test.ts', comment: 'keep the old test' }],
    ['usage', { input_tokens: 12_345, output_tokens: 678, cost_usd: 0.042 }],
    ['task.finished', { status: 'completed', files_changed: ['src/app.ts'] }],
  ];
  return rows.map(([type, data], i) => ({
    v: 1,
    seq: i + 3,
    time: new Date(Date.parse('2026-11-30T10:00:00Z') + i * 1000).toISOString(),
    type,
    session: type === 'task.started' ? null : S,
    task: 'task_1',
    actor: { principal: 'arn:aws:sts::123456789012:assumed-role/Dev/alice', account: '123456789012' },
    data,
    prev: '0'.repeat(64),
    hash: '0'.repeat(64),
  }));
}

function audit(integrity: AuditTimelineData['integrity']): ToWebview {
  return { type: 'audit', sessionId: S, file: '/ws/.deputy/audit/audit.jsonl', entries: records().map(toEntry), omitted: 0, integrity };
}

async function sessionPanel(): Promise<Panel> {
  const panel = await openPanel(browser, server, { height: 900 });
  await panel.deliver(settingsMessage(), { type: 'state', sessions: [summary(S)], selectedSessionId: S });
  return panel;
}

async function rows(panel: Panel): Promise<string[]> {
  return panel.page.getByRole('list', { name: 'Audit timeline' }).getByRole('listitem').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
}

test('the timeline asks for the trail, shows every event with actor, decision, rule, files and tokens, and "verified"', async () => {
  const panel = await sessionPanel();
  const { page } = panel;
  await page.getByRole('button', { name: 'Audit trail', exact: true }).click();
  await panel.settle();
  assert.deepEqual(await panel.postedOf('showAudit'), [{ type: 'showAudit', sessionId: S }]);
  assert.match((await page.getByRole('status', { name: 'Audit chain' }).textContent()) ?? '', /Checking/);

  await panel.deliver(audit({ state: 'verified', records: 17, tailChecked: true }));
  assert.match((await page.getByRole('status', { name: 'Audit chain' }).textContent()) ?? '', /Chain verified: 17 records/);
  assert.equal((await rows(panel)).length, 15);
  const decision = page.getByRole('listitem', { name: 'Record 12: policy.decision' });
  assert.match((await decision.textContent()) ?? '', /deputy.*policy\.decision.*propose_changes.*allow/s);
  assert.match((await decision.textContent()) ?? '', /rule: workspace policy rule 2/);
  assert.match((await decision.textContent()) ?? '', /src\/app\.ts/);
  const approved = page.getByRole('listitem', { name: 'Record 14: changeset.approved' });
  assert.match((await approved.textContent()) ?? '', /person.*changeset\.approved.*approve/s);
  assert.match((await page.getByRole('listitem', { name: 'Record 6: tool.call' }).textContent()) ?? '', /agent/);
  assert.match((await page.getByRole('listitem', { name: 'Record 16: usage' }).textContent()) ?? '', /12\.3k in · 678 out · \$0\.04/);
  assert.match((await page.getByLabel('Audit totals').textContent()) ?? '', /15 of 15 events · 12\.3k in · 678 out · \$0\.04/);
  // Agent-made text: a right-to-left override is shown, not obeyed.
  const call = (await page.getByRole('listitem', { name: 'Record 11: tool.call' }).textContent()) ?? '';
  assert.ok(call.includes('<U+202E>') && !call.includes('\u202e'), call);
  await page.screenshot({ path: join(RESULTS, 'audit-timeline-verified.png') });

  // Filter by kind, and back.
  await page.getByRole('combobox', { name: 'Filter by kind' }).selectOption('policy.decision');
  await panel.settle();
  assert.deepEqual(await rows(panel), ['Record 7: policy.decision', 'Record 12: policy.decision']);
  assert.match((await page.getByLabel('Audit totals').textContent()) ?? '', /2 of 15 events/);
  await page.screenshot({ path: join(RESULTS, 'audit-timeline-filtered.png') });
  await page.getByRole('combobox', { name: 'Filter by kind' }).selectOption('');
  await panel.settle();
  assert.equal((await rows(panel)).length, 15);

  // The buttons ask the extension; the panel itself does nothing to the trail.
  await panel.clearPosted();
  await page.getByRole('button', { name: 'Verify again', exact: true }).click();
  await page.getByRole('button', { name: 'Export audit', exact: true }).click();
  await page.getByRole('button', { name: 'Open audit folder', exact: true }).click();
  await panel.settle();
  assert.deepEqual(await panel.posted(), [
    { type: 'showAudit', sessionId: S },
    { type: 'auditCommand', command: 'export' },
    { type: 'auditCommand', command: 'openFolder' },
  ]);

  // Back to the transcript.
  await page.getByRole('button', { name: 'Transcript', exact: true }).click();
  await panel.settle();
  assert.equal(await page.getByRole('list', { name: 'Audit timeline' }).count(), 0);
  assert.deepEqual(await panel.problems(), []);
  await page.close();
});

test('a broken chain is shown with the record the server named, and that record is marked', async () => {
  const panel = await sessionPanel();
  const { page } = panel;
  await page.getByRole('button', { name: 'Audit trail', exact: true }).click();
  await panel.deliver(audit({ state: 'broken', records: 17, badIndex: 9, reason: 'was altered: hash mismatch' }));
  const status = (await page.getByRole('status', { name: 'Audit chain' }).textContent()) ?? '';
  assert.match(status, /Chain broken at record 9: was altered: hash mismatch/);
  assert.doesNotMatch(status, /verified/);
  const marked = await page.locator('deputy-audit-timeline li.bad').evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')));
  assert.deepEqual(marked, ['9']);
  await page.screenshot({ path: join(RESULTS, 'audit-timeline-broken.png') });

  // Missing trail: said so, no list.
  await panel.deliver({ type: 'audit', sessionId: S, file: '/ws/.deputy/audit/audit.jsonl', entries: [], omitted: 0, integrity: { state: 'missing' } });
  assert.match((await page.getByRole('status', { name: 'Audit chain' }).textContent()) ?? '', /No audit trail/);
  assert.deepEqual(await panel.problems(), []);
  await page.close();
});
