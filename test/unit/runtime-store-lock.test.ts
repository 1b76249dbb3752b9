// One owner per runtime store: a live owner is named in the refusal, a dead one's lock is broken, and racing
// starts cannot both win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireStoreLock, LOCK_FILE, StoreInUseError, type LockOwner } from '../../src/runtime/store-lock.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deputy-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function lockOf(owner: Partial<LockOwner>): string {
  return JSON.stringify({ pid: 1, host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'deputy serve', nonce: 'n0', ...owner });
}

test('the lock names its owner (pid, host, since, command) and is readable only by the user', async (t) => {
  const dir = await tempDir(t);
  const lock = await acquireStoreLock(dir, 'deputy serve --port 8739');
  const written = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
  assert.equal(written.pid, process.pid);
  assert.equal(written.host, hostname());
  assert.equal(written.command, 'deputy serve --port 8739');
  assert.ok(Math.abs(Date.parse(written.since) - Date.now()) < 60_000);
  assert.equal((await stat(join(dir, LOCK_FILE))).mode & 0o777, 0o600);
  await lock.release();
  await assert.rejects(stat(join(dir, LOCK_FILE)), { code: 'ENOENT' });
});

test('a store owned by a live process is refused with a message naming the owner', async (t) => {
  const dir = await tempDir(t);
  const first = await acquireStoreLock(dir, 'deputy run "first task"');
  await assert.rejects(acquireStoreLock(dir, 'deputy run "second"'), (err: unknown) => {
    assert.ok(err instanceof StoreInUseError);
    assert.equal(err.owner.pid, process.pid);
    assert.match(err.message, new RegExp(`in use by process ${process.pid} \\(deputy run "first task"\\), running since ${first.owner.since}`));
    assert.match(err.message, /Stop that process, or use another data directory/);
    return true;
  });
  await first.release();
  const again = await acquireStoreLock(dir);
  await again.release();
});

test('a lock left by a dead process is broken and the new owner told whose it was', async (t) => {
  const dir = await tempDir(t);
  const pid = await deadPid();
  await writeFile(join(dir, LOCK_FILE), lockOf({ pid, command: 'deputy serve --data-dir x' }));
  const lock = await acquireStoreLock(dir);
  assert.equal(lock.broke?.pid, pid);
  assert.equal(lock.broke?.command, 'deputy serve --data-dir x');
  assert.equal((JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockOwner).pid, process.pid);
  await lock.release();
});

test('a garbled lock file is not an owner: it is replaced', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, LOCK_FILE), '{"pid": 12');
  const lock = await acquireStoreLock(dir);
  assert.equal(lock.broke, null);
  await lock.release();
});

test('a lock from another host cannot be checked from here, so it is refused with how to clear it', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, LOCK_FILE), lockOf({ pid: await deadPid(), host: 'build-box-7' }));
  await assert.rejects(acquireStoreLock(dir), (err: unknown) => {
    assert.ok(err instanceof StoreInUseError);
    assert.match(err.message, /on host build-box-7/);
    assert.match(err.message, new RegExp(`delete ${join(dir, LOCK_FILE).replace(/[.]/g, '\\.')}`));
    return true;
  });
});

test('a pid reused by another process does not keep a dead owner\'s lock (Linux)', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = await tempDir(t);
  // This test's own pid is alive, but started at another time than the lock says.
  await writeFile(join(dir, LOCK_FILE), lockOf({ pid: process.pid, processStart: '1' }));
  const lock = await acquireStoreLock(dir);
  assert.equal(lock.broke?.pid, process.pid);
  await lock.release();
});

test('two starts racing for a stale lock: exactly one wins, the other is told who owns the store', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, LOCK_FILE), lockOf({ pid: await deadPid() }));
  const results = await Promise.allSettled([acquireStoreLock(dir, 'a'), acquireStoreLock(dir, 'b'), acquireStoreLock(dir, 'c')]);
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof StoreInUseError, String(r.reason));
  const owner = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
  assert.equal(owner.command, (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireStoreLock>>>).value.owner.command);
  await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireStoreLock>>>).value.release();
});

test('release leaves a lock that is no longer this one alone', async (t) => {
  const dir = await tempDir(t);
  const lock = await acquireStoreLock(dir);
  await writeFile(join(dir, LOCK_FILE), lockOf({ pid: process.pid, nonce: 'someone-else' }));
  await lock.release();
  assert.match(await readFile(join(dir, LOCK_FILE), 'utf8'), /someone-else/);
});
