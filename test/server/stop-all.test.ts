/**
 * The editor's Stop All reaches sessions whose window is gone: a window's language server starts a session on a
 * `deputy serve` runtime, the session waits for the person's answer, and the server is killed outright (SIGKILL: a
 * crashed window). Its session keeps waiting at the runtime. Stop All from another window then finds it through the
 * endpoint the dead window remembered and the owner its session carries, cancels it, and says so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { isFailure, StartTask, StopAll } from '../../src/protocol/lsp.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { serve } from '../helpers/serve.js';
import { settingsFor, startServer } from './server-client.js';
import { deferrals } from '../helpers/defer.js';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-stopall-ws-'));
  writeFileSync(join(dir, '.env'), 'API_URL=http://localhost\n');
  return dir;
}

test("Stop All from one window stops the session of a window whose server was killed, on the runtime it used", async (t) => {
  const defer = deferrals(t);
  const home = mkdtempSync(join(tmpdir(), 'deputy-stopall-home-'));
  defer(() => rm(home, { recursive: true, force: true }));
  const env = { DEPUTY_HOME: join(home, 'state') };
  const model = await startScriptedModel([{ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env' }] }]);
  defer(() => model.close());
  const runtime = await serve(['--port', '0', '--data-dir', join(home, 'runtime'), '--model-base-url', model.baseURL, '--model', 'scripted']);
  defer(() => runtime.stop());
  const settings = settingsFor(model.baseURL, { endpoint: runtime.url, runtimeTokenFile: runtime.tokenFile! });
  const client = new OpenAI({ baseURL: `${runtime.url}/v1`, apiKey: readFileSync(runtime.tokenFile!, 'utf8').trim() });
  const status = async (id: string) => (await client.beta.agents.sessions.retrieve(id)).status;

  const ws = workspace();
  const doomed = await startServer([ws], settings, undefined, { env });
  defer(() => doomed.kill());
  const started = await doomed.conn.sendRequest(StartTask.type, { prompt: 'What is in .env?' });
  assert.ok(!isFailure(started), JSON.stringify(started));
  await doomed.waitFor('prompt.asked');
  // The window's session names the process that follows it.
  const session = await client.beta.agents.sessions.retrieve(started.sessionId);
  assert.match(session.metadata?.['deputy.owner'] ?? '', new RegExp(`^${hostname().replace(/[.]/g, '\\.')}/${doomed.child.pid}/\\d*$`));
  await doomed.kill();
  assert.equal(await status(started.sessionId), 'requires_action', 'the question still waits at the runtime');

  // Another window, on another folder: nothing of its own runs.
  const other = await startServer([workspace()], settings, undefined, { env });
  defer(() => other.stop());
  const result = await other.conn.sendRequest(StopAll.type);
  assert.equal(result.orphaned, 1, JSON.stringify(result));
  assert.equal(result.orphanedLate, 0);
  assert.deepEqual(result.unreachable, []);
  assert.equal(result.stopped, 0, 'no live window had a session');
  assert.equal(result.processes, 1, 'the other window answered');
  assert.notEqual(await status(started.sessionId), 'requires_action');
  assert.notEqual(await status(started.sessionId), 'in_progress');
  // The question was never answered yes: nothing of .env reached the model.
  assert.ok(!JSON.stringify(model.requests).includes('API_URL'), 'the .env content never went to the model');

  // Pulled again: nothing is left to stop.
  const again = await other.conn.sendRequest(StopAll.type);
  assert.equal(again.orphaned, 0);
  assert.equal(again.stopped, 0);
});

test('Stop All reports an endpoint it cannot reach', async (t) => {
  const defer = deferrals(t);
  const home = mkdtempSync(join(tmpdir(), 'deputy-stopall-home-'));
  defer(() => rm(home, { recursive: true, force: true }));
  const env = { DEPUTY_HOME: join(home, 'state') };
  const model = await startScriptedModel([{ toolCalls: [{ name: 'workspace_read', arguments: { path: '.env' }, callId: 'call_env' }] }]);
  defer(() => model.close());
  const runtime = await serve(['--port', '0', '--data-dir', join(home, 'runtime'), '--model-base-url', model.baseURL, '--model', 'scripted']);
  let runtimeUp = true;
  defer(() => (runtimeUp ? runtime.stop() : undefined));
  const settings = settingsFor(model.baseURL, { endpoint: runtime.url, runtimeTokenFile: runtime.tokenFile! });
  const doomed = await startServer([workspace()], settings, undefined, { env });
  defer(() => doomed.kill());
  const started = await doomed.conn.sendRequest(StartTask.type, { prompt: 'What is in .env?' });
  assert.ok(!isFailure(started), JSON.stringify(started));
  await doomed.waitFor('prompt.asked');
  await doomed.kill();
  await runtime.stop();
  runtimeUp = false;

  const other = await startServer([workspace()], settings, undefined, { env });
  defer(() => other.stop());
  const result = await other.conn.sendRequest(StopAll.type);
  assert.equal(result.unreachable.length, 1, JSON.stringify(result));
  assert.equal(result.unreachable[0]!.endpoint, `Deputy runtime ${runtime.url}`);
  assert.ok(result.unreachable[0]!.reason.length > 0);
});
