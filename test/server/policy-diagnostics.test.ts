/**
 * The language server's diagnostics on Cedar policy files: opening or editing a `.cedar` document publishes
 * `textDocument/publishDiagnostics` with Cedar's errors at their line and column (0-based in LSP), and clears them
 * when the file is fixed or closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol';
import { settingsFor, startServer } from './server-client.js';

test('a .cedar file open in the editor gets schema diagnostics, updated on every edit', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-cedar-lsp-'));
  const server = await startServer([ws], settingsFor('http://127.0.0.1:9/v1'));
  t.after(() => server.stop());
  const published: PublishDiagnosticsParams[] = [];
  const waiters: (() => void)[] = [];
  server.conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.push(p);
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (): Promise<PublishDiagnosticsParams> => {
    const seen = published.length;
    while (published.length === seen) await new Promise<void>((resolve) => waiters.push(resolve));
    return published[published.length - 1]!;
  };
  const uri = pathToFileURL(join(ws, '.deputy', 'policy.cedar')).href;

  let p = next();
  await server.conn.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: 'cedar', version: 1, text: 'permit (principal, action == Deputy::Action::"workspace_read", resource)\nwhen { context.input.pth == "x" };\n' },
  });
  let d = await p;
  assert.equal(d.uri, uri);
  assert.equal(d.diagnostics.length, 1, JSON.stringify(d.diagnostics));
  assert.match(String(d.diagnostics[0]!.message), /input\.pth.*not found/);
  assert.deepEqual(d.diagnostics[0]!.range.start, { line: 1, character: 7 });
  assert.equal(d.diagnostics[0]!.severity, 1);

  // @lock in the workspace's own policy file is an error there (it is for the org's).
  p = next();
  await server.conn.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: '@lock("workspace")\npermit (principal, action, resource);\n' }],
  });
  d = await p;
  assert.match(d.diagnostics.map((x) => String(x.message)).join('\n'), /@lock is for the organisation/);

  p = next();
  await server.conn.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 3 },
    contentChanges: [{ text: 'permit (principal, action == Deputy::Action::"workspace_read", resource)\nwhen { context.input.path like "src/*" };\n' }],
  });
  assert.deepEqual((await p).diagnostics, [], 'fixed: no diagnostics');

  p = next();
  await server.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  assert.deepEqual((await p).diagnostics, []);
});
