/**
 * Review before approval, engine side (issue 9 §1): the whole changeset in one question with a binding per file;
 * nothing applied before every file is decided, then the approved set applied together through the workspace port;
 * kept hunks re-anchored on the file's content at apply time; conflicts never overwritten; request-changes comments
 * and a redo's current content go back to the agent; the revision says what changed since the last round; every
 * applied file's pre-image is kept so the task can be reverted later, with the same conflict rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/core/audit.js';
import { revertTask, revertableTasks, findRevertableTask } from '../../src/core/changeset/pre-images.js';
import type { ChangesetReviewAnswer, ChangesetReviewQuestion } from '../../src/core/changeset/review.js';
import { Policy } from '../../src/core/policy.js';
import type { FileReviewAnswer, FileReviewQuestion, PermissionAnswer, Prompter } from '../../src/core/prompter.js';
import { prepareStateDir } from '../../src/core/state-dir.js';
import { EngineEvents } from '../../src/core/event-channel.js';
import { ToolRunner } from '../../src/core/tool-runner.js';
import { DiskWorkspaceFiles, type WorkspaceEdit, type WorkspaceEditResult, type WorkspaceFiles } from '../../src/core/workspace-files.js';
import { Workspace } from '../../src/core/workspace.js';
import type { ConflictReport } from '../../src/protocol/events.js';
import type { ChangeResult, ProposeChangesResult } from '../../src/protocol/tools.js';

type Reviewer = (q: ChangesetReviewQuestion) => Promise<ChangesetReviewAnswer> | ChangesetReviewAnswer;

/** A person reviewing whole changesets; remembers every question. */
class Person implements Prompter {
  questions: ChangesetReviewQuestion[] = [];
  perFile = 0;
  constructor(private readonly reviewers: Reviewer[]) {}
  async askPermission(q: { binding: string }): Promise<PermissionAnswer> {
    return { binding: q.binding, allow: true };
  }
  async reviewFile(q: FileReviewQuestion): Promise<FileReviewAnswer> {
    this.perFile++;
    return { binding: q.binding, verdict: 'reject' };
  }
  async reviewChangeset(q: ChangesetReviewQuestion): Promise<ChangesetReviewAnswer> {
    this.questions.push(q);
    const next = this.reviewers.shift();
    assert.ok(next, 'an unexpected review question');
    return next(q);
  }
}

/** The disk port, recording each apply call. */
class RecordingFiles implements WorkspaceFiles {
  applies: { label: string; edits: WorkspaceEdit[] }[] = [];
  constructor(private readonly disk: DiskWorkspaceFiles) {}
  read(paths: readonly string[]) {
    return this.disk.read(paths);
  }
  async apply(label: string, edits: readonly WorkspaceEdit[]): Promise<WorkspaceEditResult[]> {
    this.applies.push({ label, edits: [...edits] });
    return this.disk.apply(label, edits);
  }
}

async function setup(t: { after(fn: () => Promise<void>): void }, files: Record<string, string>, person: Person) {
  const root = await mkdtemp(join(tmpdir(), 'deputy-review-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), c);
  }
  const workspace = await Workspace.open(root);
  const port = new RecordingFiles(new DiskWorkspaceFiles(workspace));
  const conflicts: ConflictReport[] = [];
  const actor = { principal: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' };
  const audit = await AuditLog.open(root);
  const events = EngineEvents.forTask(audit, actor, 'task_review');
  events.listen((_s, e) => void (e.type === 'changeset.conflict' && conflicts.push(e.conflict)));
  const runner = new ToolRunner({ workspace, policy: Policy.defaults(), audit, events, prompter: person, actor, task: 'task_review', files: port });
  let n = 0;
  const call = async (name: string, args: unknown) => runner.run({ session: 'sess_r', callId: `call_${++n}`, name, args });
  const propose = async (changes: unknown[], summary = 's') => {
    const out = await call('propose_changes', { summary, changes });
    assert.equal(out.success, true, out.error);
    return JSON.parse(out.output!) as ProposeChangesResult;
  };
  return { root, call, propose, port, conflicts, workspace };
}

const lines = (n: number, tag = 'line') => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`).join('\n') + '\n';
/** A unified diff changing line `at` (1-based) of `lines(n)` to `to`, with the file's real context. */
function change(n: number, at: number, to: string): string {
  const from = Math.max(1, at - 3);
  const until = Math.min(n, at + 3);
  const body: string[] = [];
  for (let i = from; i <= until; i++) body.push(i === at ? `-line ${i}\n+${to}` : ` line ${i}`);
  const count = until - from + 1;
  return `@@ -${from},${count} +${from},${count} @@\n${body.join('\n')}\n`;
}
const twoChanges = (n: number, a: number, b: number) => change(n, a, 'FIRST') + change(n, b, 'SECOND');

test('the whole changeset is one question with a binding per file; nothing is written until all are decided, then the approved set goes in one apply', async (t) => {
  let diskDuringReview: string | undefined;
  const person = new Person([
    (q) => {
      diskDuringReview = execFileSync('ls', [root]).toString();
      const [a, b, c] = q.items;
      return {
        decisions: [
          { binding: a!.binding, decision: 'approve' },
          { binding: b!.binding, decision: 'reject', comment: 'not this one' },
          { binding: c!.binding, decision: 'approve' },
        ],
      };
    },
  ]);
  const { root, propose, port } = await setup(t, {}, person);
  const out = await propose([
    { path: 'a.txt', operation: 'create', diff: '+a\n' },
    { path: 'b.txt', operation: 'create', diff: '+b\n' },
    { path: 'c.txt', operation: 'create', diff: '+c\n' },
  ]);
  assert.equal(person.questions.length, 1, 'one question for the whole set');
  assert.equal(person.perFile, 0, 'no per-file question when the prompter reviews whole changesets');
  const q = person.questions[0]!;
  assert.equal(new Set(q.items.map((i) => i.binding)).size, 3, 'a distinct binding per file');
  assert.equal(q.round, 1);
  assert.equal(diskDuringReview!.trim(), '', 'nothing on disk while the set is being reviewed');
  assert.deepEqual(out.results.map((r) => [r.path, r.status]), [['a.txt', 'applied'], ['b.txt', 'rejected'], ['c.txt', 'applied']]);
  assert.equal(out.results[1]!.comment, 'not this one');
  assert.equal(port.applies.length, 1, 'the approved files are applied together');
  assert.deepEqual(port.applies[0]!.edits.map((e) => e.path), ['a.txt', 'c.txt']);
  assert.equal(existsSync(join(root, 'b.txt')), false);
  assert.equal(await readFile(join(root, 'c.txt'), 'utf8'), 'c\n');
});

test('an answer for another binding, an unknown hunk or a redo on a ready file approves nothing', async (t) => {
  const person = new Person([
    (q) => ({
      decisions: [
        { binding: 'f'.repeat(64), decision: 'approve' },
        { binding: q.items[1]!.binding, decision: 'keepHunks', hunkIds: ['0123456789abcdef'] },
        { binding: q.items[2]!.binding, decision: 'redo' },
      ],
    }),
  ]);
  const { root, propose, port } = await setup(t, {}, person);
  const out = await propose([
    { path: 'a.txt', operation: 'create', diff: '+a\n' },
    { path: 'b.txt', operation: 'create', diff: '+b\n' },
    { path: 'c.txt', operation: 'create', diff: '+c\n' },
  ]);
  assert.deepEqual(out.results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  assert.equal(port.applies.length, 0);
  for (const p of ['a.txt', 'b.txt', 'c.txt']) assert.equal(existsSync(join(root, p)), false);
});

test('keep a subset of hunks: exactly those hunks are written, re-anchored on a file edited elsewhere meanwhile', async (t) => {
  const original = lines(40);
  let root = '';
  const person = new Person([
    async (q) => {
      const item = q.items[0]!;
      assert.equal(item.hunks.length, 2);
      // While the person reviews, they edit the top of the file themselves (far from the kept hunk).
      await writeFile(join(root, 'f.txt'), original.replace('line 1\n', 'my own edit\n'));
      return { decisions: [{ binding: item.binding, decision: 'keepHunks', hunkIds: [item.hunks[1]!.hunkId] }] };
    },
  ]);
  const env = await setup(t, { 'f.txt': original }, person);
  root = env.root;
  await env.call('workspace_read', { path: 'f.txt' });
  const out = await env.propose([{ path: 'f.txt', operation: 'update', diff: twoChanges(40, 5, 30) }]);
  assert.equal(out.results[0]!.status, 'applied');
  assert.deepEqual(out.results[0]!.kept_hunks, [person.questions[0]!.items[0]!.hunks[1]!.header]);
  const now = await readFile(join(root, 'f.txt'), 'utf8');
  assert.match(now, /^my own edit\n/, "the person's own edit survives");
  assert.match(now, /\nSECOND\n/, 'the kept hunk is applied');
  assert.doesNotMatch(now, /FIRST/, 'the dropped hunk is not');
  assert.match(now, /\nline 5\n/);
});

test('a kept hunk where the person edited meanwhile is a conflict: nothing written, both hashes reported', async (t) => {
  const original = lines(40);
  let root = '';
  const edited = original.replace('line 30\n', 'the person rewrote line 30\n');
  const person = new Person([
    async (q) => {
      const item = q.items[0]!;
      await writeFile(join(root, 'f.txt'), edited);
      return { decisions: [{ binding: item.binding, decision: 'keepHunks', hunkIds: [item.hunks[1]!.hunkId] }] };
    },
  ]);
  const env = await setup(t, { 'f.txt': original }, person);
  root = env.root;
  await env.call('workspace_read', { path: 'f.txt' });
  const out = await env.propose([{ path: 'f.txt', operation: 'update', diff: twoChanges(40, 5, 30) }]);
  assert.equal(out.results[0]!.status, 'conflict');
  assert.equal(await readFile(join(root, 'f.txt'), 'utf8'), edited, 'never overwritten');
  assert.equal(env.conflicts.length, 1);
  assert.notEqual(env.conflicts[0]!.baseSha256, env.conflicts[0]!.currentSha256);
  assert.equal(env.conflicts[0]!.path, 'f.txt');
});

test('an approved file changed during review is a conflict and is not overwritten; the other approved file is applied', async (t) => {
  let root = '';
  const person = new Person([
    async (q) => {
      await writeFile(join(root, 'f.txt'), 'the person typed this\n');
      return { decisions: q.items.map((i) => ({ binding: i.binding, decision: 'approve' as const })) };
    },
  ]);
  const env = await setup(t, { 'f.txt': lines(3) }, person);
  root = env.root;
  await env.call('workspace_read', { path: 'f.txt' });
  const out = await env.propose([
    { path: 'f.txt', operation: 'update', diff: change(3, 2, 'X') },
    { path: 'g.txt', operation: 'create', diff: '+g\n' },
  ]);
  assert.deepEqual(out.results.map((r) => r.status), ['conflict', 'applied']);
  assert.equal(await readFile(join(root, 'f.txt'), 'utf8'), 'the person typed this\n');
  assert.equal(env.conflicts[0]?.path, 'f.txt');
  assert.equal(env.conflicts[0]?.currentSha256, createHash('sha256').update('the person typed this\n').digest('hex'), 'the version there now');
  assert.equal(env.conflicts[0]?.baseSha256, createHash('sha256').update(lines(3)).digest('hex'), 'the version the agent read');
});

test('request changes: comments go back to the agent, and the revision says per file and hunk what changed since the last round', async (t) => {
  const person = new Person([
    (q) => ({
      comment: 'Smaller, please.',
      decisions: [
        { binding: q.items[0]!.binding, decision: 'requestChanges', comment: 'rename it', lineComments: [{ line: 30, side: 'proposed', text: 'not SECOND' }] },
      ],
    }),
    (q) => ({ decisions: q.items.map((i) => ({ binding: i.binding, decision: 'reject' as const })) }),
  ]);
  const env = await setup(t, { 'f.txt': lines(40) }, person);
  await env.call('workspace_read', { path: 'f.txt' });
  const first = await env.propose([{ path: 'f.txt', operation: 'update', diff: twoChanges(40, 5, 30) }]);
  const r = first.results[0]!;
  assert.equal(r.status, 'rejected');
  assert.equal(r.changes_requested, true);
  assert.equal(r.comment, 'rename it');
  assert.deepEqual(r.line_comments, [{ line: 30, side: 'proposed', text: 'not SECOND' }]);
  assert.equal(first.comment, 'Smaller, please.');
  assert.equal(await readFile(join(env.root, 'f.txt'), 'utf8'), lines(40), 'nothing written');

  await env.propose([
    { path: 'f.txt', operation: 'update', diff: change(40, 5, 'FIRST') + change(40, 30, 'THIRD') },
    { path: 'new.txt', operation: 'create', diff: '+n\n' },
  ]);
  const second = person.questions[1]!;
  assert.equal(second.round, 2);
  assert.equal(second.previousChangesetId, person.questions[0]!.changesetId);
  const [f, n] = second.items;
  assert.equal(f!.revision, 'changed');
  assert.deepEqual(f!.hunks.map((h) => h.revision), ['unchanged', 'changed']);
  assert.equal(n!.revision, 'new');
});

test('a file rejected with comments for the agent (a line comment, or a comment) makes the next proposal a revision; a bare rejection does not', async (t) => {
  const person = new Person([
    (q) => ({ decisions: [{ binding: q.items[0]!.binding, decision: 'reject', lineComments: [{ line: 5, side: 'proposed', text: 'keep it as it was' }] }] }),
    (q) => ({ decisions: [{ binding: q.items[0]!.binding, decision: 'reject' }] }),
    (q) => ({ decisions: [{ binding: q.items[0]!.binding, decision: 'reject', comment: 'not like this' }] }),
    (q) => ({ decisions: q.items.map((i) => ({ binding: i.binding, decision: 'reject' as const })) }),
  ]);
  const env = await setup(t, { 'f.txt': lines(40) }, person);
  await env.call('workspace_read', { path: 'f.txt' });
  const first = await env.propose([{ path: 'f.txt', operation: 'update', diff: twoChanges(40, 5, 30) }]);
  assert.deepEqual(first.results[0]!.line_comments, [{ line: 5, side: 'proposed', text: 'keep it as it was' }]);
  await env.propose([{ path: 'f.txt', operation: 'update', diff: change(40, 30, 'THIRD') }]);
  await env.propose([{ path: 'f.txt', operation: 'update', diff: change(40, 30, 'FOURTH') }]);
  await env.propose([{ path: 'f.txt', operation: 'update', diff: change(40, 30, 'FIFTH') }]);
  const [q1, q2, q3, q4] = person.questions;
  assert.equal(q2!.round, 2, 'the revision after a line comment is round 2');
  assert.equal(q2!.previousChangesetId, q1!.changesetId);
  assert.equal(q2!.items[0]!.revision, 'changed');
  assert.equal(q3!.round, 1, 'a rejection with nothing said is not a request for changes');
  assert.equal(q4!.round, 2, 'a rejection with a comment is');
});

test('redo on the current content: a file changed since the agent read it sends its current content back, and a proposal against it goes through', async (t) => {
  const person = new Person([
    (q) => ({ decisions: [{ binding: q.items[0]!.binding, decision: 'redo', comment: 'I changed it, redo on mine' }] }),
    (q) => ({ decisions: [{ binding: q.items[0]!.binding, decision: 'approve' }] }),
  ]);
  const env = await setup(t, { 'f.txt': lines(3) }, person);
  await env.call('workspace_read', { path: 'f.txt' });
  await writeFile(join(env.root, 'f.txt'), 'mine 1\nline 2\nline 3\n');
  const first = await env.propose([{ path: 'f.txt', operation: 'update', diff: change(3, 2, 'X') }]);
  assert.equal(person.questions[0]!.items[0]!.file.status, 'conflict', 'the conflict is put to the person');
  const r = first.results[0]!;
  assert.equal(r.status, 'conflict');
  assert.equal(r.current_content, 'mine 1\nline 2\nline 3\n');
  assert.equal(r.comment, 'I changed it, redo on mine');
  const again = await env.propose([{ path: 'f.txt', operation: 'update', diff: '@@ -1,3 +1,3 @@\n mine 1\n-line 2\n+X\n line 3\n' }]);
  assert.equal(again.results[0]!.status, 'applied');
  assert.equal(await readFile(join(env.root, 'f.txt'), 'utf8'), 'mine 1\nX\nline 3\n');
});

test("revert this task's changes: pre-images kept under .deputy (never committed), restored after a restart; a file changed since is a conflict", async (t) => {
  const person = new Person([(q) => ({ decisions: q.items.map((i) => ({ binding: i.binding, decision: 'approve' as const })) })]);
  const env = await setup(t, { 'keep.txt': lines(3), 'gone.txt': 'bye\n', 'edited.txt': lines(2) }, person);
  for (const p of ['keep.txt', 'gone.txt', 'edited.txt']) await env.call('workspace_read', { path: p });
  const out = await env.propose([
    { path: 'keep.txt', operation: 'update', diff: change(3, 2, 'X') },
    { path: 'gone.txt', operation: 'delete', diff: '' },
    { path: 'edited.txt', operation: 'update', diff: '@@ -1,2 +1,2 @@\n-line 1\n+ONE\n line 2\n' },
    { path: 'made.txt', operation: 'create', diff: '+made\n' },
  ]);
  assert.deepEqual(out.results.map((r) => r.status), ['applied', 'applied', 'applied', 'applied']);
  await writeFile(join(env.root, 'edited.txt'), 'the person edited after apply\n');

  // Pre-images are Deputy state that git ignores.
  execFileSync('git', ['init', '-q'], { cwd: env.root });
  await prepareStateDir(env.root);
  const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: env.root }).toString();
  assert.doesNotMatch(status, /pre-images/);
  assert.ok(existsSync(join(env.root, '.deputy', 'pre-images')));

  // "After a restart": nothing in memory, only what is on disk.
  const tasks = await revertableTasks(env.root);
  assert.deepEqual(tasks.map((x) => x.taskId), ['task_review']);
  assert.equal((await findRevertableTask(env.root, 'sess_r'))?.taskId, 'task_review', 'a session id finds its task');
  const results = await revertTask(env.root, 'task_review', new DiskWorkspaceFiles(await Workspace.open(env.root)));
  const by = Object.fromEntries(results.map((r: ChangeResult) => [r.path, r.status]));
  assert.deepEqual(by, { 'keep.txt': 'applied', 'gone.txt': 'applied', 'edited.txt': 'conflict', 'made.txt': 'applied' });
  assert.equal(await readFile(join(env.root, 'keep.txt'), 'utf8'), lines(3));
  assert.equal(await readFile(join(env.root, 'gone.txt'), 'utf8'), 'bye\n');
  assert.equal(existsSync(join(env.root, 'made.txt')), false);
  assert.equal(await readFile(join(env.root, 'edited.txt'), 'utf8'), 'the person edited after apply\n', 'never overwritten');
  // Reverted files are done; the conflict stays revertable.
  assert.deepEqual((await revertableTasks(env.root))[0]!.files, ['edited.txt']);
});

test('revert: a file the person already put back (an Undo in the editor) counts as reverted, not as a conflict, and is not written again', async (t) => {
  const person = new Person([(q) => ({ decisions: q.items.map((i) => ({ binding: i.binding, decision: 'approve' as const })) })]);
  const env = await setup(t, { 'undone.txt': lines(3), 'kept.txt': lines(2) }, person);
  for (const p of ['undone.txt', 'kept.txt']) await env.call('workspace_read', { path: p });
  const out = await env.propose([
    { path: 'undone.txt', operation: 'update', diff: change(3, 2, 'X') },
    { path: 'kept.txt', operation: 'update', diff: change(2, 1, 'Y') },
    { path: 'made.txt', operation: 'create', diff: '+made\n' },
  ]);
  assert.deepEqual(out.results.map((r) => r.status), ['applied', 'applied', 'applied']);
  // The person's Undo: the text as it was before the apply, and the created file gone.
  await writeFile(join(env.root, 'undone.txt'), lines(3));
  await rm(join(env.root, 'made.txt'));

  const files = new RecordingFiles(new DiskWorkspaceFiles(await Workspace.open(env.root)));
  const results = await revertTask(env.root, 'task_review', files);
  assert.deepEqual(Object.fromEntries(results.map((r) => [r.path, r.status])), { 'undone.txt': 'applied', 'kept.txt': 'applied', 'made.txt': 'applied' });
  assert.deepEqual(files.applies.flatMap((a) => a.edits.map((e) => e.path)), ['kept.txt'], 'only the file still as Deputy wrote it is written');
  assert.equal(await readFile(join(env.root, 'kept.txt'), 'utf8'), lines(2));
  assert.equal(await readFile(join(env.root, 'undone.txt'), 'utf8'), lines(3));
  assert.deepEqual(await revertableTasks(env.root), [], 'nothing of the task is left to revert');
});

test('a prompter without whole-changeset review is asked file by file (the terminal flow) on the same model', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'deputy-review-'));
  t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
  const asked: FileReviewQuestion[] = [];
  const prompter: Prompter = {
    askPermission: async (q) => ({ binding: q.binding, allow: true }),
    reviewFile: async (q) => {
      asked.push(q);
      return { binding: q.binding, verdict: q.file.path === 'a.txt' ? 'approve' : 'reject', comment: 'c' };
    },
  };
  const runner = new ToolRunner({ workspace: await Workspace.open(root), policy: Policy.defaults(), audit: await AuditLog.open(root), prompter, actor: { principal: 'p' }, task: 't' });
  const out = await runner.run({ session: 's', callId: 'c1', name: 'propose_changes', args: { summary: 's', changes: [{ path: 'a.txt', operation: 'create', diff: '+a\n' }, { path: 'b.txt', operation: 'create', diff: '+b\n' }] } });
  assert.deepEqual(asked.map((q) => [q.index, q.total, q.file.path]), [[1, 2, 'a.txt'], [2, 2, 'b.txt']]);
  assert.deepEqual((JSON.parse(out.output!) as ProposeChangesResult).results.map((r) => r.status), ['applied', 'rejected']);
});

test('a review nobody finishes in time rejects every file, and the trail says nobody decided: whole, and file by file', async (t) => {
  for (const whole of [true, false]) {
    const root = await mkdtemp(join(tmpdir(), 'deputy-review-'));
    t.after(() => rm(root, { recursive: true, force: true, maxRetries: 5 }));
    const never = () => new Promise<never>(() => undefined);
    // File by file, the person answers the first file and leaves the second.
    let asked = 0;
    const prompter: Prompter = {
      askPermission: async (q) => ({ binding: q.binding, allow: true }),
      reviewFile: async (q) => (++asked === 1 ? { binding: q.binding, verdict: 'reject' } : never()),
      ...(whole ? { reviewChangeset: never } : {}),
    };
    const runner = new ToolRunner({ workspace: await Workspace.open(root), policy: Policy.defaults(), audit: await AuditLog.open(root), prompter, actor: { principal: 'p' }, task: 't', promptTimeoutMs: 50 });
    const out = await runner.run({ session: 's', callId: 'c1', name: 'propose_changes', args: { summary: 's', changes: [{ path: 'a.txt', operation: 'create', diff: '+a\n' }, { path: 'b.txt', operation: 'create', diff: '+b\n' }] } });
    assert.deepEqual((JSON.parse(out.output!) as ProposeChangesResult).results.map((r) => r.status), ['rejected', 'rejected']);
    for (const p of ['a.txt', 'b.txt']) assert.equal(existsSync(join(root, p)), false);
    const trail = (await readFile(join(root, '.deputy', 'audit', 'audit.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; data: { path?: string; note?: string } });
    const notes = trail.filter((r) => r.type === 'changeset.rejected').map((r) => [r.data.path, r.data.note ?? null]);
    const timedOut = 'nobody decided before the question timed out; rejected';
    // The person's own no on a.txt (file by file) carries no such note.
    assert.deepEqual(notes, whole ? [['a.txt', timedOut], ['b.txt', timedOut]] : [['a.txt', null], ['b.txt', timedOut]], `whole: ${whole}`);
  }
});
