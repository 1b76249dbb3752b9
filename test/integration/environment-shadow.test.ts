/**
 * The shadow workspace and its review, against real git: the snapshot is the working tree exactly (uncommitted and
 * untracked files in, ignored files and .deputy out) without writing to the real repository; the shadow's changes
 * (text, binary, executable bit, rename, delete) go through the per-file review, approved ones reach the real
 * workspace, rejected ones are put back in the shadow, a file changed meanwhile in the real workspace is a conflict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudit } from '../../src/core/audit.js';
import { Shadow } from '../../src/environment/shadow.js';
import { makeRepo } from '../helpers/git.js';
import { ScriptedPerson, startTestEnvironment } from '../helpers/environment.js';

const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0xff]);

async function files(root: string): Promise<string[]> {
  const out = execFileSync('find', ['.', '-type', 'f', '-not', '-path', './.git/*'], { cwd: root }).toString();
  return out.split('\n').filter(Boolean).map((p) => p.slice(2)).sort();
}

async function objectCount(root: string): Promise<number> {
  return Number(/count: (\d+)/.exec(execFileSync('git', ['count-objects', '-v'], { cwd: root }).toString())![1]);
}

test('the shadow is the working tree exactly, and taking it writes nothing to the real repository', async (t) => {
  const repo = await makeRepo({ 'a.txt': 'committed\n', 'src/b.ts': 'b\n', '.gitignore': 'build/\n*.log\n', 'run.sh': '#!/bin/sh\necho run\n' });
  await chmod(join(repo.root, 'run.sh'), 0o755);
  execFileSync('git', ['add', 'run.sh'], { cwd: repo.root });
  await writeFile(join(repo.root, 'a.txt'), 'uncommitted change\n');
  await writeFile(join(repo.root, 'untracked.txt'), 'new\n');
  await writeFile(join(repo.root, 'image.bin'), BINARY);
  await mkdir(join(repo.root, 'build'));
  await writeFile(join(repo.root, 'build', 'out.js'), 'ignored');
  await writeFile(join(repo.root, 'debug.log'), 'ignored');
  await mkdir(join(repo.root, '.deputy'));
  await writeFile(join(repo.root, '.deputy', 'policy.json'), '{"rules":[]}');
  const indexBefore = await readFile(join(repo.root, '.git', 'index'));
  const objectsBefore = await objectCount(repo.root);

  const env = await startTestEnvironment(repo.root);
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const shadow = env.environment.context.shadow.root;
  assert.deepEqual(await files(shadow), ['.gitignore', 'a.txt', 'image.bin', 'run.sh', 'src/b.ts', 'untracked.txt']);
  assert.equal(await readFile(join(shadow, 'a.txt'), 'utf8'), 'uncommitted change\n');
  assert.deepEqual(await readFile(join(shadow, 'image.bin')), BINARY);
  assert.equal((await stat(join(shadow, 'run.sh'))).mode & 0o111, 0o111, 'the executable bit is kept');
  assert.ok(!(await readdir(shadow)).includes('.git'), 'the shadow has no git metadata the agent could rewrite');
  assert.deepEqual(await readFile(join(repo.root, '.git', 'index')), indexBefore, 'the real index is untouched');
  assert.equal(await objectCount(repo.root), objectsBefore, 'no object was written to the real repository');
});

test('outside git, the shadow is a copy that honours .gitignore; a subfolder workspace shadows only itself', async (t) => {
  const plain = await mkdtemp(join(tmpdir(), 'deputy-plain-'));
  await mkdir(join(plain, 'sub'));
  await writeFile(join(plain, '.gitignore'), 'secret-cache/\n');
  await writeFile(join(plain, 'sub', 'k.txt'), 'k');
  await mkdir(join(plain, 'secret-cache'));
  await writeFile(join(plain, 'secret-cache', 'x'), 'x');
  const env = await startTestEnvironment(plain);
  t.after(async () => {
    await env.close();
    await rm(plain, { recursive: true, force: true });
  });
  assert.deepEqual(await files(env.environment.context.shadow.root), ['.gitignore', 'sub/k.txt']);

  const repo = await makeRepo({ 'pkg/a/index.ts': 'a\n', 'pkg/b/index.ts': 'b\n' });
  const sub = await startTestEnvironment(join(repo.root, 'pkg', 'a'));
  t.after(async () => {
    await sub.close();
    await repo.cleanup();
  });
  assert.deepEqual(await files(sub.environment.context.shadow.root), ['index.ts']);
});

test('review: approved text, binary, mode and rename changes reach the workspace, a rejected file is reverted in the shadow, a conflict is reported', async (t) => {
  const repo = await makeRepo({ 'keep.txt': 'one\n', 'reject.txt': 'original\n', 'gone.txt': 'bye\n', 'old-name.txt': 'moving\n', 'tool.sh': 'echo\n', 'raced.txt': 'base\n' });
  await writeFile(join(repo.root, 'logo.bin'), BINARY);
  execFileSync('git', ['add', 'logo.bin'], { cwd: repo.root });
  const person = new ScriptedPerson(undefined, (q) =>
    q.file.path === 'reject.txt' ? { verdict: 'reject', comment: 'keep the original wording' } : { verdict: 'approve' },
  );
  const env = await startTestEnvironment(repo.root, { person });
  // The environment closes (its last audit records written) before the workspace goes.
  t.after(async () => {
    await env.close();
    await repo.cleanup();
  });
  const shadow = env.environment.context.shadow.root;

  await writeFile(join(shadow, 'keep.txt'), 'one\ntwo\n');
  await writeFile(join(shadow, 'reject.txt'), 'rewritten\n');
  await unlink(join(shadow, 'gone.txt'));
  await rename(join(shadow, 'old-name.txt'), join(shadow, 'new-name.txt'));
  await chmod(join(shadow, 'tool.sh'), 0o755);
  await writeFile(join(shadow, 'logo.bin'), Buffer.concat([BINARY, BINARY]));
  await writeFile(join(shadow, 'raced.txt'), 'agent version\n');
  await mkdir(join(shadow, 'docs'));
  await writeFile(join(shadow, 'docs', 'new.md'), '# new\n');
  // Someone edits the real file while the agent worked: the agent's version must not overwrite it.
  await writeFile(join(repo.root, 'raced.txt'), 'human version\n');

  const outcome = await env.environment.review.review('s1', 'end of turn');
  const status = Object.fromEntries(outcome.results.map((r) => [r.path, r.status]));
  assert.deepEqual(status, {
    'docs/new.md': 'applied',
    'gone.txt': 'applied',
    'keep.txt': 'applied',
    'logo.bin': 'applied',
    'new-name.txt': 'applied',
    'old-name.txt': 'applied',
    'raced.txt': 'conflict',
    'reject.txt': 'rejected',
    'tool.sh': 'applied',
  });
  assert.equal(await readFile(join(repo.root, 'keep.txt'), 'utf8'), 'one\ntwo\n');
  assert.equal(await readFile(join(repo.root, 'reject.txt'), 'utf8'), 'original\n');
  assert.equal(await readFile(join(repo.root, 'raced.txt'), 'utf8'), 'human version\n');
  assert.equal(await readFile(join(repo.root, 'docs', 'new.md'), 'utf8'), '# new\n');
  assert.equal(await readFile(join(repo.root, 'new-name.txt'), 'utf8'), 'moving\n');
  await assert.rejects(stat(join(repo.root, 'old-name.txt')));
  await assert.rejects(stat(join(repo.root, 'gone.txt')));
  assert.deepEqual(await readFile(join(repo.root, 'logo.bin')), Buffer.concat([BINARY, BINARY]));
  assert.equal((await stat(join(repo.root, 'tool.sh'))).mode & 0o111, 0o111);

  // The rejected file is back to the original in the shadow; the conflicted one keeps the agent's version.
  assert.equal(await readFile(join(shadow, 'reject.txt'), 'utf8'), 'original\n');
  assert.equal(await readFile(join(shadow, 'raced.txt'), 'utf8'), 'agent version\n');
  assert.match(outcome.notes, /rejected and reverted in your workspace: reject\.txt \(reviewer: "keep the original wording"\)/);
  assert.match(outcome.notes, /conflict, not applied: raced\.txt/);
  assert.match(outcome.notes, /kept: new-name\.txt \(renamed from old-name\.txt\)/);

  // The reviewer saw the binary and mode changes described, and every question was bound.
  const logo = person.reviews.find((q) => q.file.path === 'logo.bin')!;
  assert.match(logo.file.rationale ?? '', /Binary file: before 8 bytes.*after 16 bytes/);
  assert.match(person.reviews.find((q) => q.file.path === 'tool.sh')!.file.rationale ?? '', /made executable/);

  // A second review offers only what is still pending: the conflict.
  const again = await env.environment.review.review('s1', 'on demand');
  assert.deepEqual(again.results.map((r) => [r.path, r.status]), [['raced.txt', 'conflict']]);

  const records = (await readAudit(env.audit.file)).map((r) => r.type);
  for (const type of ['changeset.proposed', 'changeset.approved', 'changeset.applied', 'changeset.rejected', 'changeset.conflict']) {
    assert.ok(records.includes(type as never), `audit has ${type}`);
  }
});

/** Waits for the start of a new second of the clock, so what follows shares one second (file times in whole seconds). */
async function startOfSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}
const second = async (file: string) => Math.floor((await stat(file)).mtimeMs / 1000);

// Git trusts a file's cached stat data only when the file is older than the index file that holds it: a file changed
// in the second the index was written is checked by content ("racily clean"). Deputy copies index files; a copy dated
// to the copy made a same-size edit from that second look unchanged once the clock moved on.
test('a same-size edit made in the second the shadow was taken is still a change after the clock moves on', async (t) => {
  const repo = await makeRepo({ 'small.txt': 'a\nb\nc\n' });
  const base = await mkdtemp(join(tmpdir(), 'deputy-shadows-'));
  t.after(async () => {
    await rm(base, { recursive: true, force: true });
    await repo.cleanup();
  });
  let shadow: Shadow | undefined;
  for (let attempt = 0; attempt < 10 && !shadow; attempt++) {
    await startOfSecond();
    const s = await Shadow.create(repo.root, { baseDir: base });
    await writeFile(join(s.root, 'small.txt'), 'a\nB\nc\n');
    // Only a run where the index and the edit share a second shows the race (the machine may be slow).
    if ((await second(join(s.home, 'work.index'))) === (await second(join(s.root, 'small.txt')))) shadow = s;
    else await s.dispose();
  }
  // A machine too busy to take a shadow within a second cannot set the race up: that says nothing of Deputy.
  if (!shadow) return t.skip('the shadow and the edit never fell in one second in ten tries');
  await new Promise((r) => setTimeout(r, 1100));
  const tree = await shadow.currentTree();
  const changed = execFileSync('git', ['diff-tree', '-r', '--name-only', shadow.baseline, tree], { cwd: shadow.root, env: { ...process.env, ...shadow.gitEnv('work.index') } }).toString();
  assert.deepEqual(changed.split('\n').filter(Boolean), ['small.txt'], "the agent's edit is offered for review");
});

test("a same-size edit made in the second the workspace's index was written is in the snapshot", async (t) => {
  const repo = await makeRepo({ 'small.txt': 'a\nb\nc\n' });
  const base = await mkdtemp(join(tmpdir(), 'deputy-shadows-'));
  t.after(async () => {
    await rm(base, { recursive: true, force: true });
    await repo.cleanup();
  });
  let raced = false;
  for (let attempt = 0; attempt < 10 && !raced; attempt++) {
    await startOfSecond();
    await writeFile(join(repo.root, 'small.txt'), `staged ${attempt}\n`);
    execFileSync('git', ['add', 'small.txt'], { cwd: repo.root });
    await writeFile(join(repo.root, 'small.txt'), `edited ${attempt}\n`);
    raced = (await second(join(repo.root, '.git', 'index'))) === (await second(join(repo.root, 'small.txt')));
  }
  if (!raced) return t.skip('the index and the edit never fell in one second in ten tries');
  await new Promise((r) => setTimeout(r, 1100));
  const shadow = await Shadow.create(repo.root, { baseDir: base });
  assert.match(await readFile(join(shadow.root, 'small.txt'), 'utf8'), /^edited /, 'the working tree, not the staged version');
});
