/**
 * The language server registers with the kill switch (Stop all) at `initialize`, and answers `initialize` only once
 * that registration is done or has failed (and said so in the log): a session can never start in a window that a
 * Stop all pulled elsewhere would not reach. Driven over stdio against the built server.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { ExitNotification, InitializeRequest, LogMessageNotification, ShutdownRequest } from 'vscode-languageserver-protocol';
import { SERVER, settingsFor } from './server-client.js';

function start(home: string): { conn: MessageConnection; logs: string[]; pid: number; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { env: { ...process.env, DEPUTY_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const logs: string[] = [];
  conn.onNotification(LogMessageNotification.type, (p) => {
    logs.push(p.message);
  });
  conn.onError(() => undefined);
  conn.listen();
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    conn,
    logs,
    pid: child.pid!,
    stop: async () => {
      await conn.sendRequest(ShutdownRequest.type).catch(() => undefined);
      await conn.sendNotification(ExitNotification.type).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
      conn.dispose();
    },
  };
}

const initialize = (conn: MessageConnection, ws: string) =>
  conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    workspaceFolders: [{ uri: `file://${ws}`, name: 'ws' }],
    initializationOptions: { settings: settingsFor('http://127.0.0.1:9/v1'), clientVersion: '0.0.0-test' },
  });

test('initialize answers once the window is registered for Stop all', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'deputy-ks-init-'));
  const home = join(base, '.deputy');
  const server = start(home);
  t.after(() => server.stop());
  await initialize(server.conn, base);
  // No wait: by the time the client may start a session, the registration is on file.
  assert.ok(existsSync(join(home, 'kill-switch', 'live', `${server.pid}.json`)), `registered at initialize: ${server.logs.join('\n')}`);
});

test('a registration still under way holds initialize; when it fails, the log says so and initialize answers', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'deputy-ks-init-'));
  const home = join(base, '.deputy');
  const dir = join(home, 'kill-switch');
  mkdirSync(join(dir, 'live'), { recursive: true, mode: 0o700 });
  // A named pipe where the last Stop-all request would be: reading it waits for a writer, so the registration
  // stays under way until this test opens the pipe, and then fails (not a regular file).
  const fifo = join(dir, 'request.json');
  assert.equal(spawnSync('mkfifo', ['-m', '600', fifo]).status, 0, 'mkfifo');
  const server = start(home);
  t.after(() => server.stop());
  let answered = false;
  const init = initialize(server.conn, base).then(() => (answered = true));

  // Long enough for an answer sent at once to have arrived (the old server answered before registering);
  // the server under test cannot answer however long this is, its registration waits on the pipe.
  for (let i = 0; i < 40 && !answered; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(answered, false, 'initialize waited for the kill-switch registration');

  // Open the pipe's other end (the server is reading it by now: retry until it is): the registration goes on and fails.
  let writer: number | undefined;
  for (let i = 0; i < 400 && writer === undefined; i++) {
    try {
      writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  assert.notEqual(writer, undefined, 'the server read the Stop-all request at start');
  closeSync(writer!);
  await init;
  assert.ok(server.logs.some((l) => /Stop all is not available in this window/.test(l)), server.logs.join('\n'));
  assert.deepEqual(readdirSync(join(dir, 'live')), [], 'nothing registered');
});
