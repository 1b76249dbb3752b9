/**
 * An exclusive lock file (`O_CREAT | O_EXCL`) that serializes audit appends across processes: the extension's
 * language server, `deputy run` and `deputy serve` may all write one workspace's chain at once.
 *
 * The lock is held for one burst of appends (read the tail, announce, write, fsync, confirm; at most about 100 ms
 * while appends keep coming). A lock left by a process that died is recovered when its owner is gone (same host,
 * pid no longer running) or when it is older than `staleMs`, which no live append ever reaches.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStateFile, readStateFile, isProcessRunning } from './state-dir.js';

export interface LockOptions {
  /** A lock older than this is taken to be abandoned. Default 30 s. */
  staleMs?: number;
  /** Give up after waiting this long for another writer. Default 15 s. */
  timeoutMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  since: string;
}

/** Runs `body` while holding the lock file `lockFile`; the lock is released however `body` ends. */
export async function withFileLock<T>(lockFile: string, body: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const token = await acquire(lockFile, options.staleMs ?? 30_000, options.timeoutMs ?? 15_000);
  try {
    return await body();
  } finally {
    await release(lockFile, token);
  }
}

async function acquire(lockFile: string, staleMs: number, timeoutMs: number): Promise<string> {
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    try {
      // O_EXCL never follows a link at the name; openStateFile also refuses one (a committed lock-file link).
      const handle = await openStateFile(lockFile, 'wx');
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      return owner.token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await breakIfStale(lockFile, staleMs)) continue;
    if (Date.now() > deadline) {
      const holder = await readOwner(lockFile);
      throw new Error(
        `The audit log is locked by another Deputy process${holder ? ` (pid ${holder.pid} on ${holder.host})` : ''}: ` +
          `${lockFile}. If no Deputy process is running, delete that file and try again.`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
}

async function release(lockFile: string, token: string): Promise<void> {
  const owner = await readOwner(lockFile);
  // Only remove our own lock: if ours was judged stale and broken, the file now belongs to someone else.
  if (owner?.token === token) await fs.rm(lockFile, { force: true });
}

async function readOwner(lockFile: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse((await readStateFile(lockFile)) ?? '') as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && typeof owner.token === 'string') return owner as LockOwner;
  } catch {
    // missing, or being written right now, or damaged
  }
  return null;
}

/** Removes the lock when its owner is gone; true when the caller should retry at once. */
async function breakIfStale(lockFile: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await fs.lstat(lockFile)).mtimeMs;
  } catch {
    return true; // released between our open and stat
  }
  const owner = await readOwner(lockFile);
  const old = Date.now() - mtimeMs > staleMs;
  // An owner that has not finished writing its lock file yet reads as null: young and ownerless is not stale.
  const dead = owner !== null && owner.host === os.hostname() && !isProcessRunning(owner.pid);
  if (!old && !dead) return false;
  // Rename first: of several processes breaking the same stale lock, exactly one rename succeeds.
  const aside = `${lockFile}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockFile, aside);
  } catch {
    return true;
  }
  const moved = await readOwner(aside);
  if (moved && moved.token !== owner?.token) {
    // Between our check and the rename a live writer took the lock: give it back if the slot is still free.
    await fs.link(aside, lockFile).catch(() => undefined);
  }
  await fs.rm(aside, { force: true });
  return true;
}

