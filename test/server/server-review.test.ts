/**
 * Review before approval over the language server's pipe (issue 9 §1), with a stand-in for the extension's side of
 * the workspace file-system port: it holds unsaved buffers, reads them for the server, and applies a set of edits
 * all or nothing after checking each file's guard, as the extension does with one WorkspaceEdit. The real extension
 * side is built on the same messages (src/protocol/lsp.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  ApplyWorkspaceEdit,
  ChangesetsChanged,
  ConflictVersions,
  PendingChangesets,
  ReadWorkspaceFiles,
  RevertableTasks,
  RevertTask,
  ReviewChangeset,
  StartTask,
  isFailure,
  type PendingChangeset,
} from '../../src/protocol/lsp.js';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { Editor, sha } from './editor-double.js';
import { settingsFor, startServer } from './server-client.js';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
function change(n: number, at: number, to: string): string {
  const from = Math.max(1, at - 3);
  const until = Math.min(n, at + 3);
  const body: string[] = [];
  for (let i = from; i <= until; i++) body.push(i === at ? `-line ${i}\n+${to}` : ` line ${i}`);
  return `@@ -${from},${until - from + 1} +${from},${until - from + 1} @@\n${body.join('\n')}\n`;
}

test('a whole changeset reviewed over the pipe: approve, keep hunks, reject with a line comment, a conflict with an unsaved buffer; one edit for the set; the agent gets the comments; revert restores', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'deputy-review-ws-'));
  t.after(() => rmSync(ws, { recursive: true, force: true, maxRetries: 5 }));
  for (const f of ['a.txt', 'b.txt', 'e.txt']) writeFileSync(join(ws, f), lines(40));
  writeFileSync(join(ws, 'c.txt'), lines(5));
  const seen: RecordedRequest[] = [];
  const model = await startScriptedModel([
    { toolCalls: ['a.txt', 'b.txt', 'c.txt', 'e.txt'].map((p, i) => ({ name: 'workspace_read', callId: `read_${i}`, arguments: { path: p } })) },
    {
      toolCalls: [
        {
          name: 'propose_changes',
          callId: 'call_change',
          arguments: {
            summary: 'five files',
            changes: [
              { path: 'a.txt', operation: 'update', diff: change(40, 5, 'A') },
              { path: 'b.txt', operation: 'update', diff: change(40, 5, 'FIRST') + change(40, 30, 'SECOND') },
              { path: 'c.txt', operation: 'update', diff: change(5, 2, 'C') },
              { path: 'd.txt', operation: 'create', diff: '+new file\n' },
              { path: 'e.txt', operation: 'update', diff: change(40, 10, 'E') },
            ],
          },
        },
      ],
    },
    (req) => {
      seen.push(req);
      return { text: 'I will revise c.txt.' };
    },
  ]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL), undefined, { editorFiles: true });
  t.after(() => server.stop());
  const editor = new Editor();
  server.conn.onRequest(ApplyWorkspaceEdit.type, (p) => editor.apply(p));
  server.conn.onRequest(ReadWorkspaceFiles.type, (p) => {
    editor.reads++;
    return { files: p.paths.map((path) => ({ path, content: editor.read(p.folderUri, path), sha256: ((c) => (c === null ? null : sha(c)))(editor.read(p.folderUri, path)), dirty: editor.buffers.has(path) })) };
  });
  const lists: PendingChangeset[][] = [];
  server.conn.onNotification(ChangesetsChanged.type, (p) => {
    lists.push(p.changesets);
  });

  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Edit five files', folderUri: pathToFileURL(ws).href });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const sessionId = started.sessionId;
  const proposed = await server.waitFor('changeset.proposed');
  assert.equal(proposed.round, 1);
  assert.equal(proposed.source, 'proposeChanges');
  assert.ok(proposed.deadline);
  const file = (p: string) => proposed.files.find((f) => f.path === p)!;
  assert.equal(file('b.txt').hunks!.length, 2);
  assert.equal(file('a.txt').baseSha256, sha(lines(40)));
  assert.equal(typeof file('d.txt').proposalSha256, 'string');
  const pending = await server.conn.sendRequest(PendingChangesets.type);
  assert.equal(pending.changesets.length, 1);
  assert.equal(pending.changesets[0]!.task, 'Edit five files');
  assert.equal(pending.changesets[0]!.files.filter((f) => !f.decided).length, 5);

  // The person has typed into e.txt without saving.
  editor.buffers.set('e.txt', lines(40).replace('line 1\n', 'unsaved work\n'));

  const first = await server.conn.sendRequest(ReviewChangeset.type, {
    sessionId,
    changesetId: proposed.changesetId,
    files: [
      { binding: file('a.txt').binding, decision: 'approve' },
      { binding: file('b.txt').binding, decision: 'keepHunks', hunkIds: [file('b.txt').hunks![1]!.hunkId] },
      { binding: 'f'.repeat(64), decision: 'approve' },
      { binding: file('c.txt').binding, decision: 'redo' },
    ],
  });
  assert.deepEqual(first.accepted, [file('a.txt').binding, file('b.txt').binding]);
  assert.equal(first.refused.length, 2, 'a forged binding and a redo on a ready file decide nothing');
  assert.equal(first.undecided, 3);
  assert.equal(editor.applies.length, 0, 'nothing applied while files are undecided');
  assert.equal(readFileSync(join(ws, 'a.txt'), 'utf8'), lines(40));

  const second = await server.conn.sendRequest(ReviewChangeset.type, {
    sessionId,
    changesetId: proposed.changesetId,
    files: [{ binding: file('c.txt').binding, decision: 'reject', comment: 'keep line 2', lineComments: [{ line: 2, side: 'proposed', text: 'C is the wrong name' }] }],
    rest: 'approve',
    comment: 'Thanks, mostly good.',
  });
  assert.equal(second.undecided, 0);

  const applied = await server.waitFor('changeset.applied');
  assert.deepEqual(Object.fromEntries(applied.results.map((r) => [r.path, r.status])), {
    'a.txt': 'applied',
    'b.txt': 'applied',
    'c.txt': 'rejected',
    'd.txt': 'applied',
    'e.txt': 'conflict',
  });
  // The set went to the editor whole; e.txt's unsaved buffer held it back, so the rest went again on its own.
  assert.deepEqual(editor.applies.map((a) => a.edits.map((e) => e.path)), [['a.txt', 'b.txt', 'd.txt', 'e.txt'], ['a.txt', 'b.txt', 'd.txt']]);
  assert.ok(editor.reads > 0, 'kept hunks are re-anchored on what the editor holds');
  assert.match(readFileSync(join(ws, 'a.txt'), 'utf8'), /\nA\n/);
  const b = readFileSync(join(ws, 'b.txt'), 'utf8');
  assert.match(b, /\nSECOND\n/);
  assert.doesNotMatch(b, /FIRST/);
  assert.equal(readFileSync(join(ws, 'c.txt'), 'utf8'), lines(5));
  assert.equal(readFileSync(join(ws, 'd.txt'), 'utf8'), 'new file\n');
  assert.equal(readFileSync(join(ws, 'e.txt'), 'utf8'), lines(40), 'the conflicting file is not written');
  assert.equal(editor.buffers.get('e.txt'), lines(40).replace('line 1\n', 'unsaved work\n'), 'the unsaved buffer is untouched');
  const conflict = await server.waitFor('changeset.conflict');
  assert.equal(conflict.conflict.path, 'e.txt');

  const versions = await server.conn.sendRequest(ConflictVersions.type, { sessionId, changesetId: proposed.changesetId, binding: file('e.txt').binding });
  assert.ok(!isFailure(versions), JSON.stringify(versions));
  assert.match(versions.current!, /^unsaved work\n/, 'the current version is what the person sees');
  assert.match(versions.proposed!, /\nE\n/);

  // The agent gets the decisions and comments in the tool result.
  await server.waitFor('message.completed', (e) => e.text === 'I will revise c.txt.');
  const toolOutput = JSON.stringify(seen[0]!.body);
  assert.match(toolOutput, /C is the wrong name/);
  assert.match(toolOutput, /keep line 2/);
  assert.match(toolOutput, /Thanks, mostly good\./);
  assert.match(toolOutput, /kept_hunks/);

  // The person looks at the conflict after the agent's turn ended ("Show both versions" on the card): still known.
  await server.waitFor('turn.ended');
  const later = await server.conn.sendRequest(ConflictVersions.type, { sessionId, changesetId: proposed.changesetId, binding: file('e.txt').binding });
  assert.ok(!isFailure(later), `both versions after the turn ended: ${JSON.stringify(later)}`);
  assert.match(later.proposed!, /\nE\n/);

  assert.deepEqual((await server.conn.sendRequest(PendingChangesets.type)).changesets, []);
  assert.ok(lists.some((l) => l.length === 1) && lists.at(-1)!.length === 0, 'the tree saw the changeset come and go');

  // Revert this task's changes, through the editor: the applied files go back, the created one goes away.
  const revertable = await server.conn.sendRequest(RevertableTasks.type, { folderUri: pathToFileURL(ws).href });
  assert.equal(revertable.tasks.length, 1);
  assert.deepEqual([...revertable.tasks[0]!.files].sort(), ['a.txt', 'b.txt', 'd.txt']);
  const reverted = await server.conn.sendRequest(RevertTask.type, { folderUri: pathToFileURL(ws).href, id: sessionId });
  assert.ok(!isFailure(reverted), JSON.stringify(reverted));
  assert.deepEqual(reverted.results.map((r) => r.status), ['applied', 'applied', 'applied']);
  assert.equal(editor.applies.length, 3);
  assert.match(editor.applies[2]!.label, /Revert/);
  assert.equal(readFileSync(join(ws, 'a.txt'), 'utf8'), lines(40));
  assert.equal(readFileSync(join(ws, 'b.txt'), 'utf8'), lines(40));
  assert.equal(existsSync(join(ws, 'd.txt')), false);
  await server.waitFor('changeset.reverted');
  assert.deepEqual((await server.conn.sendRequest(RevertableTasks.type, { folderUri: pathToFileURL(ws).href })).tasks, []);
});
