/**
 * Deputy's language server driven over stdio by a test client, against the embedded runtime and the scripted model:
 * what the VS Code extension relies on, without VS Code.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  AnswerPrompt,
  FollowUp,
  ListSessions,
  ReviewFiles,
  SessionEventLog,
  StartTask,
  StopSession,
  Report,
  VerifyAudit,
  isFailure,
} from '../../src/protocol/lsp.js';
import { verifyAudit } from '../../src/core/audit-verify.js';
import { generateSigningKey, parsePublicKey } from '../../src/core/audit-digest.js';
import { recordSecret } from '../fixtures/leak-ledger.js';
import { startScriptedModel, type ScriptEntry } from '../fixtures/model-server.js';
import { settingsFor, startServer } from './server-client.js';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-server-ws-'));
  writeFileSync(join(dir, '.env'), 'API_URL=http://localhost\n');
  writeFileSync(join(dir, 'README.md'), '# demo\n');
  return dir;
}

const readEnv = (id: string): ScriptEntry => ({ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: id }] });

test('a task runs: a prompt is answered with its binding, a change is approved and lands on disk, a follow-up runs', async (t) => {
  const ws = workspace();
  const model = await startScriptedModel([
    readEnv('call_env'),
    { toolCalls: [{ name: 'propose_changes', callId: 'call_change', arguments: { summary: 'add hello', changes: [{ path: 'hello.txt', operation: 'create', diff: '+hello\n' }] } }] },
    { text: 'Added hello.txt.' },
    { text: 'It says hello.' },
  ]);
  t.after(() => model.close());
  const key = `sk-test-${Date.now()}-secret-model-key`;
  recordSecret(key);
  const server = await startServer([ws], settingsFor(model.baseURL, { embeddedModelApiKeyEnv: 'UNSET_VARIABLE_FOR_TEST' }), { modelApiKey: key });
  t.after(() => server.stop());

  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Add a hello file', folderUri: pathToFileURL(ws).href });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const sessionId = started.sessionId;

  const asked = await server.waitFor('prompt.asked');
  assert.equal(asked.sessionId, sessionId);
  assert.equal(asked.tool, 'workspace_read');
  assert.match(asked.summary, /\.env/);
  // An answer with any other binding approves nothing.
  const forged = await server.conn.sendRequest(AnswerPrompt.type, { sessionId, binding: 'f'.repeat(64), decision: 'allowOnce' });
  assert.equal(forged.accepted, false);
  const answered = await server.conn.sendRequest(AnswerPrompt.type, { sessionId, binding: asked.binding, decision: 'allowOnce' });
  assert.equal(answered.accepted, true);
  const read = await server.waitFor('tool.completed', (e) => e.callId === 'call_env');
  assert.equal(read.status, 'succeeded');

  const proposed = await server.waitFor('changeset.proposed');
  assert.equal(proposed.files.length, 1);
  assert.equal(proposed.files[0]!.path, 'hello.txt');
  assert.match(proposed.files[0]!.diff, /\+hello/);
  assert.equal(existsSync(join(ws, 'hello.txt')), false, 'nothing is written before the review');
  const review = await server.conn.sendRequest(ReviewFiles.type, {
    sessionId,
    changesetId: proposed.changesetId,
    bindings: [proposed.files[0]!.binding],
    verdict: 'approve',
  });
  assert.deepEqual(review.accepted, [proposed.files[0]!.binding]);
  const applied = await server.waitFor('changeset.applied');
  assert.deepEqual(applied.results.map((r) => [r.path, r.status]), [['hello.txt', 'applied']]);
  assert.equal(readFileSync(join(ws, 'hello.txt'), 'utf8'), 'hello\n');
  const ended = await server.waitFor('turn.ended');
  assert.equal(ended.outcome, 'completed');
  const done = await server.waitFor('message.completed');
  assert.equal(done.text, 'Added hello.txt.');

  // The key from the secrets file reached the model as its bearer, and nothing the server sent carries it.
  assert.equal(model.requests[0]!.headers.authorization, `Bearer ${key}`);
  assert.ok(!JSON.stringify(server.events).includes(key));

  const follow = await server.conn.sendRequest(FollowUp.type, { sessionId, text: 'What does it say?' });
  assert.deepEqual(follow, { accepted: true });
  const second = await server.waitFor('message.completed', (e) => e.text === 'It says hello.');
  assert.equal(second.sessionId, sessionId);
  await server.waitFor('turn.ended', (e) => e.turnId !== ended.turnId && e.outcome === 'completed');
  const lastUser = model.requests.at(-1)!.body;
  assert.match(JSON.stringify(lastUser), /What does it say\?/);

  // A late panel replays what it missed, in order.
  const replay = await server.conn.sendRequest(SessionEventLog.type, { sessionId, afterSeq: 0 });
  assert.ok(!isFailure(replay));
  assert.deepEqual(replay.events.map((e) => e.seq), replay.events.map((_, i) => i + 1));
  const list = await server.conn.sendRequest(ListSessions.type, { attach: false });
  assert.equal(list.sessions[0]!.status, 'idle');
  assert.equal(list.sessions[0]!.task, 'Add a hello file');
});

test('the session reattaches after the server is killed and restarted, and its open prompt comes back', async (t) => {
  const ws = workspace();
  const model = await startScriptedModel([readEnv('call_env'), { text: 'The .env names the API URL.' }]);
  t.after(() => model.close());
  const settings = settingsFor(model.baseURL);
  const first = await startServer([ws], settings);
  const started = await first.conn.sendRequest(StartTask.type, { prompt: 'What is in .env?' });
  assert.ok(!isFailure(started));
  const asked = await first.waitFor('prompt.asked');
  await first.kill();

  const second = await startServer([ws], settings);
  t.after(() => second.stop());
  const list = await second.conn.sendRequest(ListSessions.type, { attach: true });
  const found = list.sessions.find((s) => s.sessionId === started.sessionId);
  assert.ok(found, `session listed after the restart: ${JSON.stringify(list)}`);
  assert.equal(found.task, 'What is in .env?');
  const again = await second.waitFor('prompt.asked');
  assert.equal(again.sessionId, started.sessionId);
  assert.equal(again.binding, asked.binding, 'the same question, bound the same way');
  const attachedStart = await second.waitFor('session.started');
  assert.equal(attachedStart.attached, true);
  // The transcript comes back from the durable items, oldest first: the task, then the call waiting for its answer.
  const replayed = second.events.filter((e) => e.sessionId === started.sessionId).map((e) => e.type);
  assert.deepEqual(replayed.slice(0, 3), ['session.started', 'message.user', 'tool.called']);
  const ok = await second.conn.sendRequest(AnswerPrompt.type, { sessionId: started.sessionId, binding: again.binding, decision: 'allowOnce' });
  assert.equal(ok.accepted, true);
  const done = await second.waitFor('message.completed', (e) => e.text === 'The .env names the API URL.');
  assert.equal(done.sessionId, started.sessionId);
  const status = await second.waitFor('session.status', (e) => e.status === 'idle');
  assert.ok(status);
});

test('an unanswered prompt is a deny when its time runs out', async (t) => {
  const ws = workspace();
  const model = await startScriptedModel([readEnv('call_env'), { text: 'I could not read it.' }]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL, { promptTimeoutMinutes: 0.005 }));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read .env' });
  assert.ok(!isFailure(started));
  const asked = await server.waitFor('prompt.asked');
  const withdrawn = await server.waitFor('prompt.withdrawn');
  assert.equal(withdrawn.binding, asked.binding);
  assert.equal(withdrawn.reason, 'timedOut');
  const result = await server.waitFor('tool.completed');
  assert.equal(result.status, 'denied');
  await server.waitFor('message.completed', (e) => e.text === 'I could not read it.');
  // The agent was told no; the late answer counts for nothing.
  const late = await server.conn.sendRequest(AnswerPrompt.type, { sessionId: started.sessionId, binding: asked.binding, decision: 'allowOnce' });
  assert.equal(late.accepted, false);
  assert.match(JSON.stringify(model.requests.at(-1)!.body), /denied/);
});

test('Stop cancels the turn and withdraws its open prompt as a deny', async (t) => {
  const ws = workspace();
  const model = await startScriptedModel([readEnv('call_env'), { text: 'unused' }]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read .env' });
  assert.ok(!isFailure(started));
  const asked = await server.waitFor('prompt.asked');
  const stop = await server.conn.sendRequest(StopSession.type, { sessionId: started.sessionId });
  assert.equal(stop.stopped, true);
  const withdrawn = await server.waitFor('prompt.withdrawn');
  assert.deepEqual([withdrawn.binding, withdrawn.reason], [asked.binding, 'sessionStopped']);
  const ended = await server.waitFor('turn.ended');
  assert.equal(ended.outcome, 'cancelled');
  const late = await server.conn.sendRequest(AnswerPrompt.type, { sessionId: started.sessionId, binding: asked.binding, decision: 'allowOnce' });
  assert.equal(late.accepted, false);
});

test('no model at the address: the task is refused with what to set, and the server stays up', async (t) => {
  const ws = workspace();
  const server = await startServer([ws], settingsFor('http://127.0.0.1:9/v1'));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'anything' });
  assert.ok(isFailure(started));
  assert.equal(started.failure.kind, 'modelUnavailable');
  assert.deepEqual(started.failure.action, { kind: 'openSetting', setting: 'deputy.embedded.modelBaseUrl' });
  const list = await server.conn.sendRequest(ListSessions.type, { attach: false });
  assert.deepEqual(list.sessions, []);
});

test('multi-root: a task names its folder, and only that folder gets the trail and the tools', async (t) => {
  const one = workspace();
  const two = workspace();
  writeFileSync(join(two, 'only-in-two.txt'), 'two\n');
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'only-in-two.txt' }, callId: 'call_two' }] },
    { text: 'Read it.' },
  ]);
  t.after(() => model.close());
  const server = await startServer([one, two], settingsFor(model.baseURL));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read the file of folder two', folderUri: pathToFileURL(two).href });
  assert.ok(!isFailure(started));
  const read = await server.waitFor('tool.completed');
  assert.equal(read.status, 'succeeded', 'read in folder two without a question (a plain file)');
  await server.waitFor('turn.ended');
  assert.ok(existsSync(join(two, '.deputy', 'audit', 'audit.jsonl')));
  assert.equal(existsSync(join(one, '.deputy', 'audit', 'audit.jsonl')), false, 'folder one has no trail of it');
  const outside = await server.conn.sendRequest(StartTask.type, { prompt: 'x', folderUri: pathToFileURL(tmpdir()).href });
  assert.ok(isFailure(outside), 'a folder outside the workspace is refused');
  // deputy.verifyAudit checks that folder's chain as `deputy audit verify` does; a tampered chain is named.
  const verified = await server.conn.sendRequest(VerifyAudit.type, { folderUri: pathToFileURL(two).href });
  assert.equal(verified.ok, true, verified.message);
  assert.match(verified.message, /intact: \d+ records/);
  const trail = join(two, '.deputy', 'audit', 'audit.jsonl');
  writeFileSync(trail, readFileSync(trail, 'utf8').replace('Read the file of folder two', 'Read nothing at all'));
  const tampered = await server.conn.sendRequest(VerifyAudit.type, { folderUri: pathToFileURL(two).href });
  assert.equal(tampered.ok, false);
  assert.match(tampered.message, /record 1/);
});

test('untrusted workspace: its policy file is ignored and even a plain read asks', async (t) => {
  const ws = workspace();
  mkdirSync(join(ws, '.deputy'), { recursive: true });
  writeFileSync(join(ws, '.deputy', 'policy.json'), JSON.stringify({ rules: [{ tools: ['*'], decision: 'allow' }] }));
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'workspace_read', arguments: { path: 'README.md' }, callId: 'call_readme' }] },
    { text: 'ok' },
  ]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL, { workspaceTrusted: false }));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read the README' });
  assert.ok(!isFailure(started));
  const asked = await server.waitFor('prompt.asked');
  assert.equal(asked.tool, 'workspace_read');
  assert.match(asked.reason, /not trusted/);
  await server.conn.sendRequest(AnswerPrompt.type, { sessionId: started.sessionId, binding: asked.binding, decision: 'deny' });
  const result = await server.waitFor('tool.completed');
  assert.equal(result.status, 'denied');
});

test('Stop works in every turn of a session, not only the first', async (t) => {
  const ws = workspace();
  const model = await startScriptedModel([readEnv('call_a'), readEnv('call_b'), { text: 'unused' }]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL));
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Read .env' });
  assert.ok(!isFailure(started));
  const sessionId = started.sessionId;
  await server.waitFor('prompt.asked', (e) => e.callId === 'call_a');
  assert.equal((await server.conn.sendRequest(StopSession.type, { sessionId })).stopped, true);
  const first = await server.waitFor('turn.ended');
  assert.equal(first.outcome, 'cancelled');
  await server.waitFor('session.status', (e) => e.status === 'cancelled');
  assert.deepEqual(await server.conn.sendRequest(FollowUp.type, { sessionId, text: 'Try again' }), { accepted: true });
  await server.waitFor('prompt.asked', (e) => e.callId === 'call_b');
  assert.equal((await server.conn.sendRequest(StopSession.type, { sessionId })).stopped, true);
  const second = await server.waitFor('turn.ended', (e) => e.turnId !== first.turnId);
  assert.equal(second.outcome, 'cancelled', 'the second turn was cancelled at the endpoint too');
});

test('the key from secret storage signs the trail, and the report request writes the governance report', async (t) => {
  const ws = workspace();
  const model = await startScriptedModel([{ text: 'Looked around.', usage: { input_tokens: 40, output_tokens: 4 } }]);
  t.after(() => model.close());
  const key = generateSigningKey();
  const server = await startServer([ws], settingsFor(model.baseURL), { auditSigningKey: key.privateKeyPem });
  t.after(() => server.stop());
  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Look around the repository' });
  assert.ok(!isFailure(started));
  await server.waitFor('turn.ended');
  // The turn's task.finished went out with a digest signed by the key the extension handed over (it is written
  // just after turn.ended is announced).
  const trail = join(ws, '.deputy', 'audit', 'audit.jsonl');
  for (let i = 0; i < 100 && !readFileSync(trail, 'utf8').includes('"audit.digest"'); i++) await new Promise((r) => setTimeout(r, 100));
  const signed = await verifyAudit(trail, { publicKeys: [parsePublicKey(Buffer.from(key.publicKeyPem))], requireSigned: true });
  assert.ok(signed.ok, JSON.stringify(signed));
  assert.equal(signed.signatures?.digests, 1);
  assert.ok(!readFileSync(trail, 'utf8').includes('PRIVATE KEY'), 'the key itself is never in the trail');

  const out = join(ws, 'report.html');
  const r = await server.conn.sendRequest(Report.type, { folderUris: [pathToFileURL(ws).href], out });
  assert.equal(r.ok, true, r.message);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /Look around the repository/);
  assert.match(html, /verified: \d+ records/);
  const none = await server.conn.sendRequest(Report.type, { folderUris: [], out });
  assert.equal(none.ok, false);
});
