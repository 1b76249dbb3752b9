/**
 * Each session keeps the endpoint it was created on: after "Select Endpoint" switches `deputy.endpoint`, the sessions
 * list (and every later summary of an old session) still names the endpoint that session runs on, while new tasks
 * use the new one. Driven over stdio against the embedded runtime and the scripted model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { Configure, ListSessions, StartTask, isFailure } from '../../src/protocol/lsp.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { settingsFor, startServer } from './server-client.js';

test('a session keeps the endpoint it was created on after the endpoint setting changes', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-server-endpoint-'));
  writeFileSync(join(ws, 'README.md'), '# demo\n');
  const model = await startScriptedModel([{ text: 'Done.' }]);
  t.after(() => model.close());
  const settings = settingsFor(model.baseURL);
  const server = await startServer([ws], settings);
  t.after(() => server.stop());

  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Say done', folderUri: pathToFileURL(ws).href });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const first = await server.waitFor('session.started');
  assert.equal(first.endpoint, 'embedded');
  await server.waitFor('turn.ended');
  const before = await server.conn.sendRequest(ListSessions.type, { attach: false });
  assert.deepEqual(before.sessions.map((s) => [s.sessionId, s.endpoint]), [[started.sessionId, 'embedded']], 'control: the label before the switch');

  // "Select Endpoint": the extension sends the new settings; no task has run on the new endpoint yet.
  await server.conn.sendNotification(Configure.type, { ...settings, endpoint: 'http://127.0.0.1:9/runtime' });
  const after = await server.conn.sendRequest(ListSessions.type, { attach: false });
  assert.deepEqual(after.sessions.map((s) => [s.sessionId, s.endpoint]), [[started.sessionId, 'embedded']]);
  // The pushed summaries (what the panel's list shows between requests) say the same once anything changes.
  await server.conn.sendNotification(Configure.type, { ...settings, endpoint: 'openai' });
  const listed = await server.conn.sendRequest(ListSessions.type, { attach: false });
  assert.equal(listed.sessions[0]!.endpoint, 'embedded');
  assert.ok(server.sessions.every((s) => s.endpoint === 'embedded'), JSON.stringify(server.sessions));
});
