/**
 * Budgets through the language server, as the panel sees them: the meter as `budget` events from every usage the
 * endpoint reports, the 80% warning once, the stop with a `budgetReached` error whose action is "Raise budget", a
 * follow-up refused until a person raises the budget, and the raise (on the trail) letting the session go on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FollowUp, RaiseBudget, StartTask, isFailure } from '../../src/protocol/lsp.js';
import type { EngineEventOf } from '../../src/protocol/events.js';
import { startScriptedModel, type ScriptEntry } from '../fixtures/model-server.js';
import { settingsFor, startServer } from './server-client.js';

const step: ScriptEntry = { toolCalls: [{ name: 'workspace_read', arguments: { path: 'README.md' } }], usage: { input_tokens: 100_000, output_tokens: 0 } };

test('the panel receives the meter, the 80% warning, the stop with its action, and a person\'s raise', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-server-budget-'));
  writeFileSync(join(ws, 'README.md'), '# demo\n');
  const home = mkdtempSync(join(tmpdir(), 'deputy-server-home-'));
  const model = await startScriptedModel([step, step, step, step, { text: 'finished after the raise', usage: { input_tokens: 100_000, output_tokens: 0 } }]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL, { budgetPerTask: { unit: 'tokens', amount: 250_000 } }), undefined, { env: { DEPUTY_HOME: home } });
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read the README again and again' });
  assert.ok(!isFailure(started));
  const reached = await server.waitFor('budget', (e) => e.change === 'reached');
  assert.deepEqual(reached.meters, [{ scope: 'task', unit: 'tokens', spent: 300_000, limit: 250_000 }]);
  const error = await server.waitFor('error', (e) => e.kind === 'budgetReached');
  assert.deepEqual(error.action, { kind: 'raiseBudget', scope: 'task' });
  assert.match(error.message, /Budget reached: this task's budget of 250,000 tokens is spent/);
  const ended = await server.waitFor('turn.ended');
  assert.equal(ended.outcome, 'failed');
  const budgets = server.events.filter((e): e is EngineEventOf<'budget'> => e.type === 'budget');
  assert.equal(budgets.filter((e) => e.change === 'warning').length, 1, 'one warning');
  assert.match(budgets.find((e) => e.change === 'warning')!.message!, /80% spent \(200,000 tokens of 250,000 tokens\)/);
  const spent = [...new Set(budgets.flatMap((e) => e.meters.map((m) => m.spent)))];
  assert.deepEqual(spent, [0, 100_000, 200_000, 300_000], 'the meter moved with every usage report');
  assert.equal(model.requests.filter((r) => r.path.endsWith('/responses')).length, 3, `nothing was sent after the stop: ${model.requests.map((r) => r.path).join(' ')}`);

  // The agent's own way on is closed: a follow-up is refused until a person raises the budget.
  const refused = await server.conn.sendRequest(FollowUp.type, { sessionId: started.sessionId, text: 'go on' });
  assert.ok(isFailure(refused));
  assert.equal(refused.failure.kind, 'budgetReached');
  const raised = await server.conn.sendRequest(RaiseBudget.type, { sessionId: started.sessionId, scope: 'task', to: { unit: 'tokens', amount: 600_000 } });
  assert.ok(!isFailure(raised));
  assert.deepEqual(raised.meters, [{ scope: 'task', unit: 'tokens', spent: 300_000, limit: 600_000 }]);
  await server.waitFor('budget', (e) => e.change === 'raised');
  const again = await server.conn.sendRequest(FollowUp.type, { sessionId: started.sessionId, text: 'go on' });
  assert.ok(!isFailure(again));
  await server.waitFor('turn.ended', (e) => e.outcome === 'completed');
  // The turn's closing records follow its last event: read the trail once both turns are closed on it.
  const read = () => readFileSync(join(ws, '.deputy', 'audit', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  let trail = read();
  for (let i = 0; i < 200 && trail.filter((r) => r.type === 'task.finished').length < 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
    trail = read();
  }
  assert.deepEqual(
    trail.filter((r) => r.type.startsWith('budget.')).map((r) => r.type),
    ['budget.warning', 'budget.reached', 'budget.raised', 'budget.warning'],
  );
  // Each turn's usage is recorded once, not as a running total: the records add up to the session's tokens.
  const usage = trail.filter((r) => r.type === 'usage').reduce((n, r) => n + Number(r.data.input_tokens), 0);
  assert.equal(usage, 500_000);
});
