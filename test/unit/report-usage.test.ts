/**
 * Cost and tokens in `deputy report`: records without a cost are priced from the model's price in Deputy's table,
 * and editor sessions from before usage records were per turn (each one held the session's running total) are not
 * counted again and again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../src/core/audit.js';
import { buildReport } from '../../src/report/model.js';
import { readTrail } from '../../src/report/read.js';

test('the report prices usage from the table and reads an editor session\'s running totals once', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-report-usage-'));
  t.after(() => fs.rm(root, { recursive: true, force: true, maxRetries: 5 }));
  const audit = await AuditLog.open(root);
  const actor = { principal: 'arn:aws:iam::1:user/dev' };
  const editor = { session: 'sess_editor', task: 'task_editor', actor };
  const cli = { session: 'sess_cli', task: 'task_cli', actor };
  const marked = { session: 'sess_new', task: 'task_new', actor };
  await audit.append({ type: 'task.started', task: editor.task, actor, data: { task: 'three turns in the editor' } });
  await audit.append({ type: 'session.created', ...editor, data: { model: 'gpt-4.1', provider: 'deputy' } });
  // Three turns of 100k input tokens each, recorded the old way: the session's running total after each turn.
  for (const [i, turn] of [1, 2, 3].entries()) {
    await audit.append({ type: 'usage', ...editor, data: { input_tokens: turn * 100_000, output_tokens: turn * 1_000, total_tokens: turn * 101_000 } });
    await audit.append({ type: 'task.finished', ...editor, data: { status: 'completed', files_changed: [], turn: `t${i}` } });
  }
  await audit.append({ type: 'task.started', task: cli.task, actor, data: { task: 'one run' } });
  await audit.append({ type: 'session.created', ...cli, data: { model: 'gpt-5-2025-08-07', provider: 'deputy' } });
  await audit.append({ type: 'usage', ...cli, data: { input_tokens: 1_000_000, output_tokens: 100_000, cached_input_tokens: 400_000 } });
  await audit.append({ type: 'task.finished', ...cli, data: { status: 'completed', files_changed: [] } });
  await audit.append({ type: 'task.started', task: marked.task, actor, data: { task: 'two turns, per-turn records' } });
  await audit.append({ type: 'session.created', ...marked, data: { model: 'gpt-4.1', provider: 'deputy' } });
  // Per-turn shares: a second share bigger than the first is still a share.
  await audit.append({ type: 'usage', ...marked, data: { input_tokens: 100_000, output_tokens: 0, cost_usd: 0.2, turn: 'a' } });
  await audit.append({ type: 'usage', ...marked, data: { input_tokens: 200_000, output_tokens: 0, cost_usd: 0.4, turn: 'b' } });
  await audit.close();
  const report = buildReport([await readTrail(audit.file)], { now: new Date('2026-11-30T12:00:00Z') });
  const by = new Map(report.sessions.map((s) => [s.id, s]));
  const e = by.get('sess_editor')!;
  assert.equal(e.tokens, 303_000, 'the running totals count once: 300k in, 3k out');
  assert.equal(Number(e.costUsd.toFixed(6)), 0.624, 'gpt-4.1: 300k × $2 + 3k × $8 per million');
  assert.deepEqual(e.usage.map((u) => u.tokens), [101_000, 202_000, 303_000]);
  const c = by.get('sess_cli')!;
  assert.equal(Number(c.costUsd.toFixed(6)), 0.75 + 0.05 + 1, 'gpt-5 (a dated snapshot): cached input at its own rate');
  const n = by.get('sess_new')!;
  assert.equal(n.tokens, 300_000);
  assert.equal(Number(n.costUsd.toFixed(6)), 0.6);
  assert.equal(Number(report.totals.spendByPerson[0]!.costUsd.toFixed(6)), 0.624 + 1.8 + 0.6);
});
