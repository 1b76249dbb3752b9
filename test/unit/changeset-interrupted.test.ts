/**
 * An apply killed between writing a temp file and renaming it over the user's file leaves `.deputy-<hex>.tmp`
 * beside it. The next run removes exactly those temps (listed in the dead process's journal), never a user's file,
 * a link, a path outside the workspace, or the temps of an apply still running. Also: several files applied in
 * parallel keep every per-file guarantee.
 */
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyPreparedFiles, cleanInterruptedApplies, prepareChangeset } from '../../src/core/changeset/index.js';
import { Workspace } from '../../src/core/workspace.js';

const repoRoot = path.resolve(__dirname, '..', '..');
let tmp: string;
let ws: Workspace;

beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-interrupted-')));
  await fs.mkdir(path.join(tmp, 'src'));
  ws = await Workspace.open(tmp);
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function listAll(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).filter((p) => !p.startsWith('.deputy')).sort();
}

/** A `deputy`-side process that applies a one-file change and is killed (SIGKILL) right before the rename. */
function killedMidApply(root: string): Promise<NodeJS.Signals | null> {
  const src = (p: string) => JSON.stringify(pathToFileURL(path.join(repoRoot, p)).href);
  const script = `
import fs from 'node:fs';
const { applyPreparedFiles, prepareChangeset } = (await import(${src('src/core/changeset/index.ts')})).default ?? {};
const { Workspace } = (await import(${src('src/core/workspace.ts')})).default ?? {};
const ws = await Workspace.open(${JSON.stringify(root)});
const prepared = await prepareChangeset(ws, { summary: 's', changes: [
  { path: 'src/a.ts', operation: 'update', diff: '--- a/src/a.ts\\n+++ b/src/a.ts\\n@@ -1 +1 @@\\n-old\\n+new\\n' },
] }, new Map([['src/a.ts', ${JSON.stringify(sha256('old\n'))}]]));
// The crash: the temp file is written and fsync'd, the rename never happens.
fs.promises.rename = async () => { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}); };
await applyPreparedFiles(ws, prepared);
`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal ? resolve(signal) : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}

function sha256(text: string): string {
  return require('node:crypto').createHash('sha256').update(text).digest('hex') as string;
}

test('the temp file of an apply killed before its rename is removed on the next run; the user\'s files stay', async () => {
  await fs.writeFile(path.join(tmp, 'src', 'a.ts'), 'old\n');
  // A user's own file that merely looks like a Deputy temp, listed in no journal.
  await fs.writeFile(path.join(tmp, 'src', '.deputy-0123456789ab.tmp'), 'mine\n');
  assert.equal(await killedMidApply(tmp), 'SIGKILL');
  const left = (await listAll(tmp)).filter((p) => /\.deputy-[0-9a-f]{12}\.tmp$/.test(p) && !p.endsWith('0123456789ab.tmp'));
  assert.equal(left.length, 1, 'the killed apply left its temp file');

  const removed = await cleanInterruptedApplies(ws);
  assert.deepEqual(removed, left);
  assert.deepEqual(await listAll(tmp), ['src', 'src/.deputy-0123456789ab.tmp', 'src/a.ts']);
  assert.equal(await fs.readFile(path.join(tmp, 'src', 'a.ts'), 'utf8'), 'old\n');
  assert.deepEqual(await fs.readdir(path.join(tmp, '.deputy', 'runtime', 'pending-writes')), []);
  assert.deepEqual(await cleanInterruptedApplies(ws), [], 'a second run finds nothing');
});

test('only what a dead process journalled, inside the workspace, named as a temp and a regular file is removed', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-outside-'));
  try {
    const temp = path.join(tmp, 'src', '.deputy-aaaaaaaaaaaa.tmp');
    const user = path.join(tmp, 'src', 'user.ts');
    const far = path.join(outside, '.deputy-bbbbbbbbbbbb.tmp');
    const link = path.join(tmp, 'src', '.deputy-cccccccccccc.tmp');
    const live = path.join(tmp, 'src', '.deputy-dddddddddddd.tmp');
    for (const f of [temp, user, far, live]) await fs.writeFile(f, 'x');
    await fs.symlink(user, link);
    const dir = path.join(tmp, '.deputy', 'runtime', 'pending-writes');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, `${dead}-1.json`), JSON.stringify({ host: os.hostname(), pid: dead, temps: [temp, user, far, link] }));
    await fs.writeFile(path.join(dir, `${process.pid}-2.json`), JSON.stringify({ host: os.hostname(), pid: process.pid, temps: [live] }));

    assert.deepEqual(await cleanInterruptedApplies(ws), ['src/.deputy-aaaaaaaaaaaa.tmp']);
    for (const f of [user, far, live]) assert.equal(await fs.readFile(f, 'utf8'), 'x', `${f} is kept`);
    assert.equal((await fs.lstat(link)).isSymbolicLink(), true);
    assert.deepEqual(await fs.readdir(dir), [`${process.pid}-2.json`], "a live process's journal is left alone");
  } finally {
    await fs.rm(outside, { recursive: true, force: true });
  }
});

test('files applied in parallel: each re-checked and written atomically, conflicts kept per file, no temp left', async () => {
  const reads = new Map<string, string>();
  const changes = [];
  for (let i = 0; i < 20; i++) {
    const rel = `src/f${i}.ts`;
    await fs.writeFile(path.join(tmp, rel), `v${i}\n`);
    reads.set(rel, (await ws.read({ path: rel })).sha256);
    changes.push({ path: rel, operation: 'update' as const, diff: `--- a/${rel}\n+++ b/${rel}\n@@ -1 +1 @@\n-v${i}\n+w${i}\n` });
  }
  changes.push({ path: 'src/new/n.ts', operation: 'create' as const, diff: '--- /dev/null\n+++ b/src/new/n.ts\n@@ -0,0 +1 @@\n+n\n' });
  const prepared = await prepareChangeset(ws, { summary: 's', changes }, reads);
  await fs.writeFile(path.join(tmp, 'src', 'f7.ts'), 'changed by the user\n'); // after review
  const results = await applyPreparedFiles(ws, prepared, { concurrency: 4 });
  assert.deepEqual(results.map((r) => r.path), changes.map((c) => c.path));
  assert.equal(results[7]!.status, 'conflict');
  assert.equal(await fs.readFile(path.join(tmp, 'src', 'f7.ts'), 'utf8'), 'changed by the user\n');
  for (let i = 0; i < 20; i++) {
    if (i === 7) continue;
    assert.equal(results[i]!.status, 'applied');
    assert.equal(await fs.readFile(path.join(tmp, `src/f${i}.ts`), 'utf8'), `w${i}\n`);
  }
  assert.equal(await fs.readFile(path.join(tmp, 'src/new/n.ts'), 'utf8'), 'n\n');
  assert.deepEqual((await listAll(tmp)).filter((p) => p.includes('.deputy-')), []);
});
