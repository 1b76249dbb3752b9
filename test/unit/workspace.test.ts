import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Workspace, WorkspaceError, type WorkspaceErrorCode } from '../../src/core/workspace.js';

let tmp: string;
let outside: string;
let ws: Workspace;

async function write(rel: string, content: string | Buffer): Promise<void> {
  const abs = path.join(tmp, 'ws', rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, content);
}

async function refusedWith<T>(p: Promise<T>, code: WorkspaceErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WorkspaceError, `expected WorkspaceError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-ws-'));
  outside = path.join(tmp, 'outside');
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'secret\n');
  await fs.mkdir(path.join(tmp, 'ws'));
  execFileSync('git', ['init', '-q', path.join(tmp, 'ws')]);
  await write('README.md', '# Demo\nhello world\n');
  await write('src/index.ts', 'export const a = 1;\r\nexport function hello() {\r\n  return "hello";\r\n}\r\n');
  await write('src/util/math.ts', 'export const add = (a: number, b: number) => a + b;\n');
  await write('src/util/deep/deeper/x.ts', 'const hello = 2;\n');
  await write('node_modules/pkg/index.js', 'hello from a dependency\n');
  await write('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]));
  await write('big.txt', Buffer.alloc(2 * 1024 * 1024 + 1, 'a'));
  await write('nofinal.txt', 'one\ntwo');
  await fs.symlink(outside, path.join(tmp, 'ws', 'escape-dir'));
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(tmp, 'ws', 'escape-file'));
  await fs.symlink('README.md', path.join(tmp, 'ws', 'readme-link'));
  await fs.symlink('.git', path.join(tmp, 'ws', 'gitlink'));
  await fs.symlink(path.join(outside, 'nothing-yet'), path.join(tmp, 'ws', 'dangling'));
  ws = await Workspace.open(path.join(tmp, 'ws'));
});

after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

test('open resolves the root with realpath', async () => {
  const viaLink = path.join(tmp, 'ws-link');
  await fs.symlink(path.join(tmp, 'ws'), viaLink);
  const opened = await Workspace.open(viaLink);
  assert.equal(opened.root, await fs.realpath(path.join(tmp, 'ws')));
  await refusedWith(Workspace.open(path.join(tmp, 'missing')), 'not_found', /does not exist/);
});

test('resolve normalizes and keeps paths inside the root', async () => {
  assert.deepEqual(await ws.resolve('./src//util/../index.ts'), {
    abs: path.join(ws.root, 'src', 'index.ts'),
    rel: 'src/index.ts',
    realRel: 'src/index.ts',
  });
  assert.deepEqual(await ws.resolve('src/new/file.ts'), {
    abs: path.join(ws.root, 'src', 'new', 'file.ts'),
    rel: 'src/new/file.ts',
    realRel: 'src/new/file.ts',
  });
  assert.deepEqual(await ws.resolve('readme-link'), { abs: path.join(ws.root, 'README.md'), rel: 'readme-link', realRel: 'README.md' });
  assert.equal((await ws.resolve('')).rel, '');
});

test('resolve refuses every way out of the workspace', async () => {
  await refusedWith(ws.resolve('../outside/secret.txt'), 'outside_workspace', /leads outside the workspace through "\.\."/);
  await refusedWith(ws.resolve('src/../../x'), 'outside_workspace', /outside/);
  await refusedWith(ws.resolve('/etc/passwd'), 'outside_workspace', /is absolute/);
  await refusedWith(ws.resolve('C:/Windows/win.ini'), 'outside_workspace', /is absolute/);
  await refusedWith(ws.resolve('..\\outside'), 'invalid_path', /backslash/);
  await refusedWith(ws.resolve('a\0b'), 'invalid_path', /NUL byte/);
  await refusedWith(ws.resolve('a\nb'), 'invalid_path', /control character/);
  await refusedWith(ws.resolve('escape-dir/secret.txt'), 'outside_workspace', /"escape-dir", a symbolic link that points outside/);
  await refusedWith(ws.resolve('escape-file'), 'outside_workspace', /symbolic link that points outside/);
  await refusedWith(ws.resolve('escape-dir/new.txt'), 'outside_workspace', /symbolic link/);
  await refusedWith(ws.resolve('dangling'), 'invalid_path', /target does not exist/);
  await refusedWith(ws.resolve(42 as unknown as string), 'invalid_path', /must be a string/);
  await refusedWith(ws.resolve('README.md/x'), 'not_a_directory', /"README.md", which is a file/);
});

test('resolve refuses .git in any spelling and through symlinks', async () => {
  for (const p of ['.git/config', '.GIT/config', 'sub/.git/hooks/x', '.git', '.Git./HEAD', 'GIT~1/config', 'src/../.git/HEAD']) {
    await refusedWith(ws.resolve(p), 'git_dir', /\.git folder/);
  }
  await refusedWith(ws.resolve('gitlink/config'), 'git_dir', /symbolic link into a \.git folder/);
  assert.equal((await ws.resolve('.gitignore')).rel, '.gitignore');
});

test('list: depth, types, sizes, skips .git and node_modules, never follows symlinks', async () => {
  const { entries, truncated } = await ws.list({});
  assert.equal(truncated, false);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.deepEqual(byPath.get('README.md'), { path: 'README.md', type: 'file', size: 19 });
  assert.equal(byPath.get('src')?.type, 'dir');
  assert.equal(byPath.get('src/util')?.type, 'dir');
  assert.equal(byPath.has('src/util/math.ts'), false, 'depth 2 stops before src/util/*');
  assert.equal(byPath.get('escape-dir')?.type, 'symlink');
  assert.ok(![...byPath.keys()].some((p) => p.startsWith('.git') && p !== '.gitignore'), 'no .git entries');
  assert.ok(![...byPath.keys()].some((p) => p.startsWith('node_modules')), 'no node_modules');
  assert.ok(![...byPath.keys()].some((p) => p.startsWith('escape-dir/')), 'symlinked dirs are not walked');

  const deep = await ws.list({ path: 'src', depth: 10, glob: '**/*.ts' });
  assert.deepEqual(deep.entries.map((e) => e.path), ['src/index.ts', 'src/util/deep/deeper/x.ts', 'src/util/math.ts']);
  const byName = await ws.list({ depth: 10, glob: 'math.ts' });
  assert.deepEqual(byName.entries.map((e) => e.path), ['src/util/math.ts']);
  await refusedWith(ws.list({ path: 'README.md' }), 'not_a_directory', /is a file, not a folder/);
  await refusedWith(ws.list({ path: 'nope' }), 'not_found', /does not exist/);
  await refusedWith(ws.list({ path: '.git' }), 'git_dir', /\.git/);
});

test('list caps the number of entries', async () => {
  const many = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-many-'));
  try {
    await Promise.all(Array.from({ length: 2100 }, (_, i) => fs.writeFile(path.join(many, `f${i}.txt`), '')));
    const result = await (await Workspace.open(many)).list({});
    assert.equal(result.entries.length, 2000);
    assert.equal(result.truncated, true);
  } finally {
    await fs.rm(many, { recursive: true, force: true });
  }
});

test('read: whole file, line ranges, hash of the bytes', async () => {
  const bytes = await fs.readFile(path.join(ws.root, 'src/index.ts'));
  const whole = await ws.read({ path: 'src/index.ts' });
  assert.equal(whole.text, bytes.toString('utf8'));
  assert.equal(whole.total_lines, 4);
  assert.equal(whole.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(whole.path, 'src/index.ts');
  const part = await ws.read({ path: './src/index.ts', start_line: 2, end_line: 3 });
  assert.equal(part.text, 'export function hello() {\r\n  return "hello";\r\n');
  assert.equal(part.sha256, whole.sha256, 'the hash covers the whole file even for a range');
  const tail = await ws.read({ path: 'nofinal.txt', start_line: 2 });
  assert.deepEqual([tail.text, tail.total_lines], ['two', 2]);
  await refusedWith(ws.read({ path: 'src/index.ts', start_line: 9 }), 'invalid_range', /past the end .* 4 lines/);
});

test('read refuses binary, big, folders, missing files and escapes', async () => {
  await refusedWith(ws.read({ path: 'logo.png' }), 'binary', /binary file/);
  await refusedWith(ws.read({ path: 'big.txt' }), 'too_large', /2\.0 MiB read limit/);
  await refusedWith(ws.read({ path: 'src' }), 'not_a_file', /folder/);
  await refusedWith(ws.read({ path: 'missing.txt' }), 'not_found', /does not exist/);
  await refusedWith(ws.read({ path: 'escape-file' }), 'outside_workspace', /outside/);
  await refusedWith(ws.read({ path: '.git/HEAD' }), 'git_dir', /\.git/);
});

test('search: literal and regex, glob filter, skips binary, big, .git, node_modules, symlinks', async () => {
  const literal = await ws.search({ query: 'hello' });
  assert.deepEqual(literal.matches, [
    { path: 'README.md', line: 2, text: 'hello world' },
    { path: 'src/index.ts', line: 2, text: 'export function hello() {' },
    { path: 'src/index.ts', line: 3, text: '  return "hello";' },
    { path: 'src/util/deep/deeper/x.ts', line: 1, text: 'const hello = 2;' },
  ]);
  assert.equal(literal.truncated, false);
  const regex = await ws.search({ query: '^export (const|function) \\w+', regex: true, glob: 'src/*.ts' });
  assert.deepEqual(regex.matches.map((m) => `${m.path}:${m.line}`), ['src/index.ts:1', 'src/index.ts:2']);
  const capped = await ws.search({ query: 'hello', max_results: 2 });
  assert.equal(capped.matches.length, 2);
  assert.equal(capped.truncated, true);
  assert.deepEqual((await ws.search({ query: 'secret' })).matches, [], 'symlinks to outside are not searched');
  assert.deepEqual((await ws.search({ query: 'repositoryformatversion' })).matches, [], '.git is not searched');
  await refusedWith(ws.search({ query: '(', regex: true }), 'invalid_query', /regular expression is invalid/);
  await refusedWith(ws.search({ query: '(?<=a)b', regex: true }), 'invalid_query', /no backreferences or lookaround/);
  await refusedWith(ws.search({ query: '' }), 'invalid_query', /non-empty/);
});

// A backtracking engine would not finish this in any test's lifetime; the timeout turns such a regression into a
// failure instead of a hung run.
test('search: a catastrophic-backtracking pattern from the model finishes (RE2 semantics)', { timeout: 60_000 }, async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-redos-'));
  t.after(() => fs.rm(root, { recursive: true, force: true, maxRetries: 5 }));
  // 30 lines that would take a backtracking engine far longer than the test's lifetime with (a+)+$.
  await fs.writeFile(path.join(root, 'evil.txt'), `${'a'.repeat(5000)}b\n`.repeat(30));
  const ws = await Workspace.open(root);
  const result = await ws.search({ query: '(a+)+$', regex: true });
  assert.deepEqual(result.matches, []);
});
