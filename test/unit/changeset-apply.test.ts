import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPreparedFile, prepareChangeset } from '../../src/core/changeset/index.js';
import { Workspace } from '../../src/core/workspace.js';

let tmp: string;
let ws: Workspace;
let reads: Map<string, string>;

async function write(rel: string, content: string): Promise<void> {
  const abs = path.join(tmp, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, content);
}
const readDisk = (rel: string) => fs.readFile(path.join(tmp, rel), 'utf8');
async function read(rel: string): Promise<void> {
  reads.set(rel, (await ws.read({ path: rel })).sha256);
}

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-changeset-'));
  execFileSync('git', ['init', '-q', tmp]);
  ws = await Workspace.open(tmp);
  reads = new Map();
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

test('update, create and delete in one proposal, each applied on its own', async () => {
  await write('src/app.ts', 'import x from "x";\r\n\r\nexport function main() {\r\n  return x(1);\r\n}\r\n');
  await write('old.txt', 'obsolete\n');
  await read('src/app.ts');
  await read('old.txt');
  const prepared = await prepareChangeset(
    ws,
    {
      summary: 'Call x with 2, add docs, drop old.txt',
      changes: [
        {
          path: 'src/app.ts',
          operation: 'update',
          diff: '*** Begin Patch\n*** Update File: src/app.ts\n@@ export function main() {\n-  return x(1);\n+  return x(2);\n*** End Patch\n',
          rationale: 'x wants 2',
        },
        { path: 'docs/guide/intro.md', operation: 'create', diff: '--- /dev/null\n+++ b/docs/guide/intro.md\n@@ -0,0 +1,2 @@\n+# Intro\n+Hello.\n' },
        { path: 'old.txt', operation: 'delete', diff: '' },
      ],
    },
    reads,
  );
  assert.deepEqual(prepared.map((f) => [f.path, f.operation, f.status]), [
    ['src/app.ts', 'update', 'ready'],
    ['docs/guide/intro.md', 'create', 'ready'],
    ['old.txt', 'delete', 'ready'],
  ]);
  const [update, create, del] = prepared as [(typeof prepared)[0], (typeof prepared)[0], (typeof prepared)[0]];
  assert.equal(update.rationale, 'x wants 2');
  assert.deepEqual(update.stats, { added: 1, removed: 1 });
  assert.equal(update.baseSha256, reads.get('src/app.ts'));
  assert.match(update.displayDiff, /^diff --git a\/src\/app\.ts b\/src\/app\.ts\n--- a\/src\/app\.ts\n\+\+\+ b\/src\/app\.ts\n@@ -1,5 \+1,5 @@\n/);
  assert.match(update.displayDiff, /\n-  return x\(1\);\n\+  return x\(2\);\n/);
  assert.match(create.displayDiff, /new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/docs\/guide\/intro\.md\n@@ -0,0 \+1,2 @@\n\+# Intro\n\+Hello\.\n$/);
  assert.match(del.displayDiff, /deleted file mode 100644\n--- a\/old\.txt\n\+\+\+ \/dev\/null\n@@ -1,1 \+0,0 @@\n-obsolete\n$/);

  for (const file of prepared) assert.deepEqual(await applyPreparedFile(ws, file), { path: file.path, status: 'applied' });
  assert.equal(await readDisk('src/app.ts'), 'import x from "x";\r\n\r\nexport function main() {\r\n  return x(2);\r\n}\r\n', 'CRLF kept');
  assert.equal(await readDisk('docs/guide/intro.md'), '# Intro\nHello.\n');
  await assert.rejects(fs.stat(path.join(tmp, 'old.txt')), { code: 'ENOENT' });
  const leftovers = (await fs.readdir(path.join(tmp, 'src'))).filter((n) => n.includes('deputy'));
  assert.deepEqual(leftovers, [], 'no temp files left behind');
});

test('an unread file is updated only when the hunk matches exactly at one place', async () => {
  await write('a.txt', 'alpha\nbeta\ngamma\n');
  const [file] = await prepareChangeset(ws, { summary: 's', changes: [{ path: 'a.txt', operation: 'update', diff: ' alpha\n-beta\n+BETA\n' }] }, reads);
  assert.equal(file!.status, 'ready', file!.reason);
  assert.equal(file!.before, 'alpha\nbeta\ngamma\n');
  assert.equal(file!.after, 'alpha\nBETA\ngamma\n');
  assert.equal((await applyPreparedFile(ws, file!)).status, 'applied');
  assert.equal(await readDisk('a.txt'), 'alpha\nBETA\ngamma\n');
});

test('one bad file never blocks the others', async () => {
  await write('good.txt', 'one\n');
  await write('stale.txt', 'v1\n');
  await read('stale.txt');
  await write('stale.txt', 'v2\n');
  const prepared = await prepareChangeset(
    ws,
    {
      summary: 's',
      changes: [
        { path: 'good.txt', operation: 'update', diff: '-one\n+uno\n' },
        { path: '.git/config', operation: 'update', diff: '-x\n+y\n' },
        { path: 'stale.txt', operation: 'update', diff: '-v1\n+v3\n' },
        { path: 'new.txt', operation: 'create', diff: '+fresh\n' },
      ],
    },
    reads,
  );
  assert.deepEqual(prepared.map((f) => f.status), ['ready', 'invalid', 'conflict', 'ready']);
  assert.equal(prepared[2]!.before, 'v2\n', 'a conflict shows what is there now');
  const results = [];
  for (const file of prepared) results.push((await applyPreparedFile(ws, file)).status);
  assert.deepEqual(results, ['applied', 'invalid', 'conflict', 'applied']);
  assert.equal(await readDisk('good.txt'), 'uno\n');
  assert.equal(await readDisk('stale.txt'), 'v2\n');
  assert.equal(await readDisk('new.txt'), 'fresh\n');
});

test('file mode is kept, and a symlink inside the workspace is edited through, not replaced', async () => {
  await write('bin/run.sh', '#!/bin/sh\necho hi\n');
  await fs.chmod(path.join(tmp, 'bin/run.sh'), 0o755);
  await fs.symlink('bin/run.sh', path.join(tmp, 'run'));
  await read('run');
  const [file] = await prepareChangeset(ws, { summary: 's', changes: [{ path: 'run', operation: 'update', diff: ' #!/bin/sh\n-echo hi\n+echo hello\n' }] }, reads);
  assert.equal(file!.status, 'ready', file!.reason);
  assert.equal((await applyPreparedFile(ws, file!)).status, 'applied');
  assert.equal(await readDisk('bin/run.sh'), '#!/bin/sh\necho hello\n');
  assert.equal((await fs.stat(path.join(tmp, 'bin/run.sh'))).mode & 0o777, 0o755);
  assert.equal((await fs.lstat(path.join(tmp, 'run'))).isSymbolicLink(), true);
});

test('a file created by someone else after review is a conflict, not overwritten', async () => {
  const [file] = await prepareChangeset(ws, { summary: 's', changes: [{ path: 'x/new.txt', operation: 'create', diff: '+agent\n' }] }, reads);
  assert.equal(file!.status, 'ready');
  await write('x/new.txt', 'person\n');
  const result = await applyPreparedFile(ws, file!);
  assert.equal(result.status, 'conflict');
  assert.match(result.reason!, /created by someone else after review/);
  assert.equal(await readDisk('x/new.txt'), 'person\n');
});

test('a delete whose file changed after review is a conflict and the file stays', async () => {
  await write('d.txt', 'one\n');
  await read('d.txt');
  const [file] = await prepareChangeset(ws, { summary: 's', changes: [{ path: 'd.txt', operation: 'delete', diff: '' }] }, reads);
  assert.equal(file!.status, 'ready');
  await write('d.txt', 'two\n');
  assert.equal((await applyPreparedFile(ws, file!)).status, 'conflict');
  assert.equal(await readDisk('d.txt'), 'two\n');
});

test('a missing final newline and unified no-newline markers round-trip to disk', async () => {
  await write('n.txt', 'a\nb');
  await read('n.txt');
  const [file] = await prepareChangeset(ws, { summary: 's', changes: [{ path: 'n.txt', operation: 'update', diff: '@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n' }] }, reads);
  assert.equal(file!.status, 'ready', file!.reason);
  assert.match(file!.displayDiff, /-b\n\\ No newline at end of file\n\+c\n\\ No newline at end of file\n$/);
  await applyPreparedFile(ws, file!);
  assert.equal(await readDisk('n.txt'), 'a\nc');
});

test('a create with an empty diff makes an empty file, shown as such to the reviewer', async () => {
  const [file] = await prepareChangeset(ws, { summary: 'package marker', changes: [{ path: 'pkg/__init__.py', operation: 'create', diff: '' }] }, reads);
  assert.equal(file!.status, 'ready', file!.reason);
  assert.equal(file!.after, '');
  assert.match(file!.displayDiff, /new file mode/);
  assert.deepEqual(await applyPreparedFile(ws, file!), { path: 'pkg/__init__.py', status: 'applied' });
  assert.equal(await readDisk('pkg/__init__.py'), '');
});
