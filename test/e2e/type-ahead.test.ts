/**
 * Type-ahead on a real terminal: a key pressed before a question was on screen never answers it. Through a
 * pseudo-terminal, the built CLI, the embedded runtime and the scripted model: the person types `y` (a whole line,
 * then half a line) while the agent is still working; when each question appears, that early `y` is gone and only
 * what is typed after the question counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { makeRepo } from '../helpers/git.js';
import { runCliOnPty } from '../helpers/pty.js';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const modelTurns = (requests: RecordedRequest[]) => requests.filter((r) => r.path.endsWith('/responses'));
const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

test('on a terminal, input typed before a question is shown is dropped; only what follows answers it', async (t) => {
  const repo = await makeRepo({ '.env': 'API_TOKEN=early-bird-secret\n', 'keys/id_rsa': 'not really a key\n', 'a.txt': 'a\n' });
  t.after(() => repo.cleanup());
  const first = gate();
  const second = gate();
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }], until: first.promise },
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'keys/id_rsa' } }], until: second.promise },
    { text: 'done' },
  ]);
  t.after(() => model.close());
  const cli = runCliOnPty(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'look around'], { cwd: repo.root });
  t.after(() => cli.kill());

  // 1. While the first model call is in flight, a whole line: "y" and Enter.
  await cli.waitFor(() => modelTurns(model.requests).length === 1, 'the first model call');
  cli.type('y\r');
  await cli.waitFor((o) => o.endsWith('y\n'), 'the terminal to echo the early line');
  first.open();
  await cli.waitFor((o) => count(o, /Allow\? \[y\]es \/ \[n\]o \/ \[t\]his task \/ \[w\]orkspace: /) === 1, 'the first question');
  cli.type('n\r');

  // 2. While the second model call is in flight, half a line: "y" without Enter; Enter comes after the question.
  await cli.waitFor(() => modelTurns(model.requests).length === 2, 'the second model call');
  cli.type('y');
  await cli.waitFor((o) => o.endsWith('y'), 'the terminal to echo the early key');
  second.open();
  await cli.waitFor((o) => count(o, /Allow\? \[y\]es \/ \[n\]o \/ \[t\]his task \/ \[w\]orkspace: /) === 2, 'the second question');
  cli.type('\r');
  await cli.waitFor((o) => /Please answer y, n, t or w/.test(o), 'the bare Enter to count as no answer');
  cli.type('n\r');

  assert.equal(await cli.exited, 0, cli.output());
  const out = cli.output();
  assert.match(out, /Done · session/);
  // Both reads were denied: the agent never saw either file, and the audit trail records two "no" answers.
  const sent = (i: number) => JSON.stringify(modelTurns(model.requests)[i]!.body);
  assert.match(sent(1), /denied this request/);
  assert.doesNotMatch(sent(1), /early-bird-secret/);
  assert.match(sent(2), /denied this request/);
  assert.doesNotMatch(sent(2), /not really a key/);
  const answers = (await readFile(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data: { answer?: string } })
    .filter((r) => r.type === 'prompt.answered');
  assert.deepEqual(answers.map((r) => r.data.answer), ['deny', 'deny']);
});

test('on a terminal, an answer typed after the question is shown is taken (control)', async (t) => {
  const repo = await makeRepo({ '.env': 'API_TOKEN=typed-after\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] }, { text: 'done' }]);
  t.after(() => model.close());
  const cli = runCliOnPty(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'look'], { cwd: repo.root });
  t.after(() => cli.kill());
  await cli.waitFor((o) => /Allow\? \[y\]es \/ \[n\]o \/ \[t\]his task \/ \[w\]orkspace: $/.test(o), 'the question');
  cli.type('y\r');
  assert.equal(await cli.exited, 0, cli.output());
  assert.match(JSON.stringify(modelTurns(model.requests)[1]!.body), /typed-after/);
});

test('on a terminal, an "a" typed before a file is shown for review does not approve it', async (t) => {
  const repo = await makeRepo({ 'README.md': '# Demo\n' });
  t.after(() => repo.cleanup());
  const held = gate();
  const diff = '--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# Demo\n+# Demo (edited)\n';
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'propose_changes', arguments: { summary: 's', changes: [{ path: 'README.md', operation: 'update', diff }] } }], until: held.promise },
    { text: 'ok' },
  ]);
  t.after(() => model.close());
  const cli = runCliOnPty(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'edit the readme'], { cwd: repo.root });
  t.after(() => cli.kill());
  await cli.waitFor(() => modelTurns(model.requests).length === 1, 'the model call');
  cli.type('a\r');
  await cli.waitFor((o) => o.endsWith('a\n'), 'the terminal to echo the early line');
  held.open();
  await cli.waitFor((o) => /\[a\]pprove \/ \[r\]eject \/ c <comment> \(reject with a comment\): $/.test(o), 'the review question');
  cli.type('r\r');
  assert.equal(await cli.exited, 0, cli.output());
  assert.equal(await readFile(join(repo.root, 'README.md'), 'utf8'), '# Demo\n', 'the file was not changed');
  assert.match(cli.output(), /✗ rejected README\.md/);
  assert.match(cli.output(), /Files changed: none/);
});

test('on a terminal, Ctrl-C at a question still cancels the task (raw mode passes it on as the signal)', async (t) => {
  const repo = await makeRepo({ '.env': 'A=b\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' } }] }, { text: 'never' }]);
  t.after(() => model.close());
  const cli = runCliOnPty(['run', '--model-base-url', model.baseURL, '--model', 'scripted', 'look'], { cwd: repo.root });
  t.after(() => cli.kill());
  await cli.waitFor((o) => /Allow\? \[y\]es \/ \[n\]o \/ \[t\]his task \/ \[w\]orkspace: $/.test(o), 'the question');
  cli.type('\u0003');
  await cli.waitFor((o) => /Cancelling the turn/.test(o), 'the cancel notice');
  const code = await cli.exited;
  assert.equal(code, 130, cli.output());
  assert.doesNotMatch(JSON.stringify(model.requests.map((r) => r.body)), /A=b/, 'the read was not allowed');
});
