/**
 * The language server's task code lenses and audit timeline, driven by a test client that declares what VS Code's
 * client declares (dynamic registration, code-lens refresh): the lenses appear only while the setting is on, follow
 * the document as it changes, count a file's proposed changes waiting for review; the timeline shows a session's
 * audited events and the chain's integrity as the server checks it, broken where the file was edited.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  CodeLensRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  type CodeLens,
} from 'vscode-languageserver-protocol';
import { AnswerPrompt, AuditTimeline, Configure, ReviewFiles, StartTask, TaskLens, isFailure, type CodeLensSettings } from '../../src/protocol/lsp.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { DYNAMIC_CLIENT, settingsFor, startServer, type ServerUnderTest } from './server-client.js';

const ON: CodeLensSettings = { enabled: true, markers: ['TODO(agent):', 'AGENT:'] };

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function methods(server: ServerUnderTest): string[] {
  return [...server.registered.values()].sort();
}

async function lenses(server: ServerUnderTest, uri: string): Promise<CodeLens[]> {
  return (await server.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
}

const titles = (ls: CodeLens[]) => ls.map((l) => `${l.range.start.line}:${l.command?.title}`);

test('code lenses: registered only while on, follow edits, count proposed changes, and go away when off', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-lens-ws-'));
  const source = 'const a = 1;\n// TODO(agent): validate the input\nexport function f() {}\n';
  writeFileSync(join(ws, 'app.ts'), source);
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'propose_changes', callId: 'call_change', arguments: { summary: 'bump a', changes: [{ path: 'app.ts', operation: 'update', diff: '@@\n-const a = 1;\n+const a = 2;\n' }] } }] },
    { text: 'Done.' },
  ]);
  t.after(() => model.close());

  // Off (the setting absent): nothing registered, so no document would ever be sent.
  const off = await startServer([ws], settingsFor(model.baseURL), undefined, { capabilities: DYNAMIC_CLIENT });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(methods(off), []);
  await off.stop();

  const server = await startServer([ws], settingsFor(model.baseURL, { codeLens: ON }), undefined, { capabilities: DYNAMIC_CLIENT });
  t.after(() => server.stop());
  await until(() => methods(server).length === 4, 'the lens and sync registrations');
  assert.deepEqual(methods(server), ['textDocument/codeLens', 'textDocument/didChange', 'textDocument/didClose', 'textDocument/didOpen']);

  const uri = pathToFileURL(join(ws, 'app.ts')).href;
  await server.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'typescript', version: 1, text: source } });
  const first = await lenses(server, uri);
  assert.deepEqual(titles(first), ['1:Dispatch to agent', '1:Dispatch with options…']);
  const args = first[0]!.command!.arguments![0] as TaskLens.DispatchArgs;
  assert.deepEqual(args, { uri, line: 1, endLine: 1, marker: 'TODO(agent):', task: 'validate the input' });
  assert.equal(first[0]!.command!.command, TaskLens.dispatch);
  assert.equal(first[1]!.command!.command, TaskLens.dispatchWithOptions);

  // A keystroke-sized incremental change: a block comment with a marker inserted at the top.
  await server.conn.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '/* AGENT: add a header */\n' }],
  });
  const second = await lenses(server, uri);
  assert.deepEqual(titles(second), ['0:Dispatch to agent', '0:Dispatch with options…', '2:Dispatch to agent', '2:Dispatch with options…']);
  assert.equal((second[0]!.command!.arguments![0] as TaskLens.DispatchArgs).task, 'add a header');

  // A changeset proposing a change to this file: the editor is asked to refresh, and the file gets a review lens.
  const refreshesBefore = server.lensRefreshes();
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Bump a', folderUri: pathToFileURL(ws).href });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const proposed = await server.waitFor('changeset.proposed');
  await until(() => server.lensRefreshes() > refreshesBefore, 'a code-lens refresh request');
  const withReview = await lenses(server, uri);
  assert.equal(withReview[0]!.command!.title, 'Review 1 agent change');
  assert.equal(withReview[0]!.command!.command, TaskLens.review);
  assert.deepEqual(withReview[0]!.command!.arguments, [{ sessionId: started.sessionId }]);

  await server.conn.sendRequest(ReviewFiles.type, { sessionId: started.sessionId, changesetId: proposed.changesetId, bindings: [proposed.files[0]!.binding], verdict: 'reject' });
  await server.waitFor('turn.ended');
  assert.ok(!(await lenses(server, uri)).some((l) => l.command?.title.startsWith('Review')), 'a decided file has no review lens');

  // Markers changed in the settings: the lenses follow without the document changing.
  await server.conn.sendNotification(Configure.type, settingsFor(model.baseURL, { codeLens: { enabled: true, markers: ['AGENT:'] } }));
  assert.deepEqual(titles(await lenses(server, uri)), ['0:Dispatch to agent', '0:Dispatch with options…']);

  // Off: every registration is withdrawn and a stray request gets nothing.
  await server.conn.sendNotification(Configure.type, settingsFor(model.baseURL, { codeLens: { enabled: false, markers: ON.markers } }));
  await until(() => methods(server).length === 0, 'the unregistrations');
  assert.deepEqual(await lenses(server, uri), []);
});

test('audit timeline: the events of a session with actor, tool, decision, rule, files and tokens; verified, then broken where edited', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-timeline-ws-'));
  writeFileSync(join(ws, '.env'), 'API_URL=http://localhost\n');
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env' }] },
    { toolCalls: [{ name: 'propose_changes', callId: 'call_change', arguments: { summary: 'add hello', changes: [{ path: 'hello.txt', operation: 'create', diff: '+hello\n' }] } }] },
    { text: 'Added hello.txt.' },
  ]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Add a hello file', folderUri: pathToFileURL(ws).href });
  assert.ok(!isFailure(started));
  const asked = await server.waitFor('prompt.asked');
  await server.conn.sendRequest(AnswerPrompt.type, { sessionId: started.sessionId, binding: asked.binding, decision: 'allowOnce' });
  const proposed = await server.waitFor('changeset.proposed');
  await server.conn.sendRequest(ReviewFiles.type, { sessionId: started.sessionId, changesetId: proposed.changesetId, bindings: [proposed.files[0]!.binding], verdict: 'approve' });
  await server.waitFor('turn.ended');

  // The turn's usage and end are recorded just after it is announced as ended.
  let tl = await server.conn.sendRequest(AuditTimeline.type, { sessionId: started.sessionId });
  for (let i = 0; i < 100 && !isFailure(tl) && !tl.entries.some((e) => e.kind === 'task.finished'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    tl = await server.conn.sendRequest(AuditTimeline.type, { sessionId: started.sessionId });
  }
  assert.ok(!isFailure(tl), JSON.stringify(tl));
  assert.equal(tl.integrity.state, 'verified');
  const kinds = tl.entries.map((e) => e.kind);
  for (const k of ['task.started', 'session.created', 'message.user', 'tool.call', 'policy.decision', 'prompt.asked', 'prompt.answered', 'changeset.proposed', 'changeset.approved', 'changeset.applied', 'usage', 'task.finished']) {
    assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
  }
  const decision = tl.entries.find((e) => e.kind === 'policy.decision' && e.tool === 'workspace_read')!;
  assert.equal(decision.decision, 'ask');
  assert.equal(decision.actor, 'deputy');
  assert.match(decision.rule ?? '', /rule/);
  const approved = tl.entries.find((e) => e.kind === 'changeset.approved')!;
  assert.equal(approved.actor, 'person');
  assert.deepEqual(approved.files, ['hello.txt']);
  assert.equal(tl.entries.find((e) => e.kind === 'tool.call')!.actor, 'agent');
  const usage = tl.entries.find((e) => e.kind === 'usage')!;
  assert.ok((usage.inputTokens ?? 0) > 0, JSON.stringify(usage));
  assert.deepEqual(tl.entries.map((e) => e.seq), [...tl.entries.map((e) => e.seq)].sort((a, b) => a - b));

  // Someone edits a record in place: the server names the first record that no longer matches its hash.
  const lines = readFileSync(tl.file, 'utf8').split('\n');
  const target = tl.entries.find((e) => e.kind === 'prompt.answered')!.seq;
  lines[target - 1] = lines[target - 1]!.replace('"answer":"allow"', '"answer":"deny"');
  writeFileSync(tl.file, lines.join('\n'));
  const broken = await server.conn.sendRequest(AuditTimeline.type, { sessionId: started.sessionId });
  assert.ok(!isFailure(broken));
  assert.equal(broken.integrity.state, 'broken');
  assert.ok(broken.integrity.state === 'broken' && broken.integrity.badIndex === target, JSON.stringify(broken.integrity));
  // What can be read is still shown.
  assert.equal(broken.entries.length, tl.entries.length);
});
