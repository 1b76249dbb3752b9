/**
 * An editor session with Deputy as the agent's environment (DESIGN.md §2 B; issue 9 §1, §5), over the language
 * server's pipe against the embedded runtime and the scripted model: the agent's patch lands in the shadow, the
 * end-of-turn changeset comes to the editor as the same card as `propose_changes` (bindings, hunks, per-file
 * decisions), approved text goes through the editor's file port as one edit (never the disk behind its back), a file
 * with unsaved edits is a conflict whose buffer survives, and the reviewer's comment is the agent's next message.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { ReviewChangeset, StartTask, isFailure } from '../../src/protocol/lsp.js';
import { startScriptedModel, type RecordedRequest } from '../fixtures/model-server.js';
import { makeRepo } from '../helpers/git.js';
import { Editor, serveEditorFiles } from './editor-double.js';
import { settingsFor, startServer } from './server-client.js';

const PATCH = [
  '*** Begin Patch',
  '*** Update File: a.txt',
  '@@',
  '-alpha',
  '+ALPHA',
  '*** Update File: b.txt',
  '@@',
  '-beta',
  '+BETA',
  '*** Update File: c.txt',
  '@@',
  '-gamma',
  '+GAMMA',
  '*** Add File: d.txt',
  '+delta',
  '*** End Patch',
  '',
].join('\n');

test("an environment session's changeset is reviewed on the editor's card and applied through the editor: a dirty buffer survives, a comment goes back to the agent", async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n', 'b.txt': 'beta\n', 'c.txt': 'gamma\n' });
  const ws = repo.root;
  const seen: RecordedRequest[] = [];
  const model = await startScriptedModel([
    { toolCalls: [{ name: 'apply_patch', callId: 'p1', kind: 'custom', arguments: PATCH }] },
    { text: 'Renamed the three words and added delta.' },
    (req) => {
      seen.push(req);
      return { text: 'Understood: c.txt stays lower case.' };
    },
  ]);
  t.after(() => model.close());
  const server = await startServer([ws], settingsFor(model.baseURL), undefined, { editorFiles: true });
  t.after(async () => {
    // The server first: it writes the folder's audit trail and runtime store until it has stopped.
    const stopped = Date.now();
    await server.stop();
    await repo.cleanup();
    assert.ok(Date.now() - stopped < 30_000, `the server took ${Date.now() - stopped} ms to stop`);
  });
  const editor = new Editor();
  serveEditorFiles(server, editor);

  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Shout the words', folderUri: pathToFileURL(ws).href, environment: true });
  assert.ok(!isFailure(started), JSON.stringify(started));
  const sessionId = started.sessionId;

  const proposed = await server.waitFor('changeset.proposed', undefined, 60_000);
  assert.equal(proposed.source, 'environment');
  const file = (p: string) => {
    const f = proposed.files.find((x) => x.path === p);
    assert.ok(f, `${p} on the card: ${proposed.files.map((x) => x.path).join(', ')}`);
    return f;
  };
  assert.deepEqual(proposed.files.map((f) => f.path).sort(), ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
  assert.equal(file('a.txt').hunks!.length, 1, 'hunks offered for per-hunk keep, as for propose_changes');
  assert.match(file('a.txt').diff, /\+ALPHA/);
  // Nothing reaches the real workspace before the review.
  assert.equal(readFileSync(join(ws, 'a.txt'), 'utf8'), 'alpha\n');

  // Meanwhile the person has typed into b.txt without saving.
  editor.buffers.set('b.txt', 'beta, my unsaved edit\n');

  const decided = await server.conn.sendRequest(ReviewChangeset.type, {
    sessionId,
    changesetId: proposed.changesetId,
    files: [
      { binding: file('a.txt').binding, decision: 'keepHunks', hunkIds: [file('a.txt').hunks![0]!.hunkId] },
      { binding: file('b.txt').binding, decision: 'approve' },
      { binding: file('c.txt').binding, decision: 'requestChanges', comment: 'keep gamma lower case' },
      { binding: file('d.txt').binding, decision: 'approve' },
    ],
  });
  assert.equal(decided.undecided, 0, JSON.stringify(decided));

  // The review is over once the agent has answered its next message.
  await server.waitFor('message.completed', (e) => e.text === 'Understood: c.txt stays lower case.', 30_000);
  // The approved set went to the editor as one edit (then without the conflicting file), not to the disk behind it.
  assert.deepEqual(
    editor.applies.map((a) => a.edits.map((e) => e.path)),
    [['a.txt', 'b.txt', 'd.txt'], ['a.txt', 'd.txt']],
  );
  assert.equal(readFileSync(join(ws, 'a.txt'), 'utf8'), 'ALPHA\n');
  assert.equal(readFileSync(join(ws, 'd.txt'), 'utf8'), 'delta\n');
  assert.equal(readFileSync(join(ws, 'b.txt'), 'utf8'), 'beta\n', 'the file with unsaved edits is not written');
  assert.equal(editor.buffers.get('b.txt'), 'beta, my unsaved edit\n', 'the unsaved buffer survives');
  assert.equal(readFileSync(join(ws, 'c.txt'), 'utf8'), 'gamma\n');
  // That message is the review: the comment, the conflict, and that c.txt was put back in the agent's copy.
  const input = seen[0]!.body.input as Array<{ role?: string; content?: Array<{ text?: string }> }>;
  const next = input.filter((i) => i.role === 'user').at(-1)!.content![0]!.text!;
  assert.match(next, /changes requested, reverted in your workspace: c\.txt \(reviewer: "keep gamma lower case"\)/);
  assert.match(next, /conflict, not applied: b\.txt/);
  assert.match(next, /- kept: d\.txt/);
  await server.waitFor('message.user', (e) => e.text === next);

  const applied = await server.waitFor('changeset.applied', (e) => e.changesetId === proposed.changesetId, 30_000);
  assert.deepEqual(Object.fromEntries(applied.results.map((r) => [r.path, r.status])), { 'a.txt': 'applied', 'b.txt': 'conflict', 'c.txt': 'rejected', 'd.txt': 'applied' });
  const conflict = await server.waitFor('changeset.conflict');
  assert.equal(conflict.conflict.path, 'b.txt');

  // The trail says where the changeset came from, and who approved what.
  const audit = readFileSync(join(ws, '.deputy', 'audit', 'audit.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  assert.ok(audit.some((r) => r.type === 'changeset.proposed' && r.data.source === 'environment'));
  assert.deepEqual(audit.filter((r) => r.type === 'changeset.applied').map((r) => r.data.path).sort(), ['a.txt', 'd.txt']);
});

test('a review still open when the window closes is withdrawn: the server stops at once and nothing reaches the workspace', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'alpha\n', 'b.txt': 'beta\n', 'c.txt': 'gamma\n' });
  t.after(() => repo.cleanup());
  const model = await startScriptedModel([{ toolCalls: [{ name: 'apply_patch', callId: 'p1', kind: 'custom', arguments: PATCH }] }, { text: 'Done.' }]);
  t.after(() => model.close());
  const server = await startServer([repo.root], settingsFor(model.baseURL), undefined, { editorFiles: true });
  const editor = new Editor();
  serveEditorFiles(server, editor);

  const started = await server.conn.sendRequest(StartTask.type, { prompt: 'Shout the words', folderUri: pathToFileURL(repo.root).href, environment: true });
  assert.ok(!isFailure(started), JSON.stringify(started));
  await server.waitFor('changeset.proposed', undefined, 60_000);
  // Nobody answers; the window closes. Before, the turn waited on the open review (15 minutes by default) and the
  // server never answered its shutdown.
  // stop() kills a server that does not answer shutdown within 10 s: it says whether this one answered by itself.
  assert.equal(await server.stop(), true, 'the server answered its shutdown with a review still open');
  await server.kill().catch(() => undefined);

  assert.equal(editor.applies.length, 0, 'nothing was applied');
  // The withdrawn review is not the agent's next message: no turn after the first.
  assert.equal(model.requests.filter((r) => /\/(responses|chat\/completions)$/.test(r.path)).length, 2, 'no revision turn after the shutdown');
  assert.equal(readFileSync(join(repo.root, 'a.txt'), 'utf8'), 'alpha\n');
  const audit = readFileSync(join(repo.root, '.deputy', 'audit', 'audit.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  assert.equal(audit.filter((r) => r.type === 'changeset.applied').length, 0);
  // The withdrawn review rejects every file, on the trail file by file, saying that nobody decided.
  const rejected = audit.filter((r) => r.type === 'changeset.rejected');
  assert.deepEqual([...new Set(rejected.map((r) => r.data.path))].sort(), ['a.txt', 'b.txt', 'c.txt', 'd.txt'], JSON.stringify(audit.map((r) => r.type)));
  for (const r of rejected) assert.match(String(r.data.note), /^nobody decided: the question was withdrawn before an answer/, JSON.stringify(r.data));
});
