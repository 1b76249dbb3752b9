/**
 * `deputy run --budget` end to end through the built CLI, the embedded runtime and the scripted model: the 80%
 * warning and the stop as lines of the session, the question to raise the budget answered on stdin (a person's
 * answer, on the trail), the agent going on after it, and a refusal of a bad answer; a second run whose day budget
 * (`--budget-per-day`) the first already spent is refused before anything is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScriptedModel, type ScriptEntry } from '../fixtures/model-server.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';

const step: ScriptEntry = { toolCalls: [{ name: 'workspace_read', arguments: { path: 'README.md' } }], usage: { input_tokens: 100_000, output_tokens: 0 } };

test('deputy run --budget: warned, stopped, raised by the answer on stdin, and the day budget holds for the next run', async (t) => {
  const repo = await makeRepo({ 'README.md': '# Demo\n' });
  t.after(() => repo.cleanup());
  const home = await mkdtemp(join(tmpdir(), 'deputy-run-budget-home-'));
  t.after(() => rm(home, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([step, step, step, step, { text: 'Read it four times.', usage: { input_tokens: 100_000, output_tokens: 0 } }]);
  t.after(() => model.close());
  const env = { DEPUTY_HOME: home };
  const args = ['run', '--model-base-url', model.baseURL, '--model', 'gpt-4.1', '--budget-per-day', '500000tokens'];
  // First answer is not a budget (asked again), the second raises it.
  const result = await runCli([...args, '--budget', '0.5usd', 'Read the README again and again'], { cwd: repo.root, input: 'lots\n2usd\n', env });
  assert.equal(result.code, 0, `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
  const out = result.stdout;
  assert.doesNotMatch(out, /No price is known/, 'gpt-4.1 is in the table');
  assert.match(out, /⚠ This task's budget is 80% spent \(\$0\.40 of \$0\.50\)\. Deputy stops the agent at 100%\./);
  assert.match(out, /■ Budget reached: this task's budget of \$0\.50 is spent \(\$0\.60\)/);
  assert.match(out, /Raise this task's budget to \(e\.g\. 1\.00usd\), or press Enter to stop: lots/);
  assert.match(out, /"lots" is not a budget/);
  assert.match(out, /set this task's budget to \$2\.00 \(was \$0\.50\)/);
  assert.match(out, /Read it four times\./);
  assert.match(out, /cost \$1\.0000/, 'the summary prices 500k input tokens of gpt-4.1 from the table');
  const trail = (await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  const raised = trail.find((r) => r.type === 'budget.raised')!;
  assert.deepEqual(raised.data, { scope: 'task', unit: 'usd', from: 0.5, to: 2 });

  // The day (500k tokens) is spent now: the next run in this home stops before sending anything; Enter declines.
  const before = model.requests.length;
  const second = await runCli([...args, 'Anything else'], { cwd: repo.root, input: '\n', env });
  assert.equal(second.code, 1, second.stdout);
  assert.match(second.stdout, /Budget reached: today's budget of 500,000 tokens is spent \(500,000 tokens\)/);
  assert.match(second.stdout, /run again with a higher --budget-per-day/);
  assert.equal(model.requests.filter((r) => r.path.endsWith('/responses')).length, model.requests.slice(0, before).filter((r) => r.path.endsWith('/responses')).length);
});
