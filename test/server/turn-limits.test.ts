/**
 * A session hosted by the language server keeps the same per-turn limits as `deputy run` (issue 6 §2): the caps on
 * tool calls and permission prompts (`deputy.turns.maxSteps` / `deputy.turns.maxPrompts`), and a tool result larger
 * than the endpoint accepts is cut with a note instead of failing the turn. Driven over stdio against the embedded
 * runtime and the scripted model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_TOOL_OUTPUT_BYTES } from '../../src/agents/endpoints.js';
import { AnswerPrompt, FollowUp, StartTask, isFailure } from '../../src/protocol/lsp.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { settingsFor, startServer } from './server-client.js';

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-server-limits-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const read = (path: string, callId: string) => ({ name: 'workspace_read', arguments: { path }, callId });

test('the per-turn caps of the settings end a hosted turn: prompts in one turn, tool calls in the next', async (t) => {
  const ws = workspace({ '.env': 'API_URL=http://localhost\n', 'README.md': '# demo\n' });
  const model = await startScriptedModel([
    { toolCalls: [read('.env', 'call_env1')] },
    { toolCalls: [read('.env', 'call_env2')] },
    { toolCalls: [read('README.md', 'call_r1'), read('README.md', 'call_r2'), read('README.md', 'call_r3')] },
    { text: 'unused' },
    { text: 'unused' },
  ]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL, { maxStepsPerTurn: 2, maxPromptsPerTurn: 1 }));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read .env twice' });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const sessionId = started.sessionId;

  const asked = await server.waitFor('prompt.asked', (e) => e.callId === 'call_env1');
  await server.conn.sendRequest(AnswerPrompt.type, { sessionId, binding: asked.binding, decision: 'deny' });
  const first = await server.waitFor('turn.ended');
  assert.equal(first.outcome, 'failed');
  assert.match(first.error ?? '', /cap of 1 permission prompts/);
  const capError = await server.waitFor('error');
  assert.deepEqual(capError.cap, { cap: 'prompts', max: 1 });
  // The second call was never put to the person.
  assert.equal(server.events.filter((e) => e.type === 'prompt.asked').length, 1);

  assert.deepEqual(await server.conn.sendRequest(FollowUp.type, { sessionId, text: 'Read the README three times' }), { accepted: true });
  const second = await server.waitFor('turn.ended', (e) => e.turnId !== first.turnId);
  assert.equal(second.outcome, 'failed');
  assert.match(second.error ?? '', /cap of 2 tool calls/);
  const ran = server.events.filter((e) => e.type === 'tool.called' && e.callId.startsWith('call_r')).length;
  assert.equal(ran, 2, 'the call over the cap did not run');
});

test('a tool result larger than the endpoint accepts is cut with a note, and the hosted turn goes on', { timeout: 180_000 }, async (t) => {
  // 2 MiB of quote characters: the largest readable file, which JSON escaping doubles twice on its way.
  const ws = workspace({ 'quotes.txt': '"'.repeat(2 * 1024 * 1024) });
  const model = await startScriptedModel([{ toolCalls: [read('quotes.txt', 'call_q')] }, { text: 'too long, I will ask for less' }]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read quotes.txt' });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const ended = await server.waitFor('turn.ended', undefined, 120_000);
  assert.equal(ended.outcome, 'completed', ended.error);
  await server.waitFor('message.completed', (e) => e.text === 'too long, I will ask for less');
  type Input = Array<{ type?: string; output?: string }>;
  const outputs = model.requests.flatMap((r) => ((r.body as { input?: Input } | undefined)?.input ?? []));
  const sent = outputs.find((i) => i.type === 'function_call_output')!.output!;
  assert.ok(Buffer.byteLength(sent) <= MAX_TOOL_OUTPUT_BYTES.runtime);
  assert.match((JSON.parse(sent) as { note: string }).note, /^output truncated: \d+ of \d+ bytes; ask for a narrower range/);
});
