/**
 * One runtime per data directory: `<dataDir>/runtime.lock` names the process that owns the store (pid, host,
 * when it started, its command line). A second runtime on the same directory is refused with that owner's
 * facts, unless the owner is gone: a lock whose process no longer runs on this host (a `kill -9`, a power cut)
 * is stale, and is broken so the next start works.
 *
 * The lock file only ever appears whole: it is written under a temporary name and then hard-linked into place,
 * which fails if a lock is already there. Breaking a stale lock renames it away first and checks that what was
 * renamed is the lock judged stale, so two starts racing to break the same lock cannot both win.
 */
import { isSameProcessRunning, processStart } from '../core/state-dir.js';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'runtime.lock';

/** Who owns a store. */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the owner took the lock, ISO 8601. */
  since: string;
  /** The owner's command line (`deputy serve --port 8739`), for the person reading the error. */
  command: string;
  /** Linux: the process's start time in clock ticks since boot, so a pid reused by another process is not taken for the owner. */
  processStart?: string;
  /** Tells this lock from any other, even one by the same pid. */
  nonce: string;
}

/** The store is owned by a live process (or one on another host, whose liveness cannot be checked from here). */
export class StoreInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
    super(
      `The runtime store ${dataDir} is in use by process ${owner.pid}${where} (${owner.command}), running since ${owner.since}. ` +
        (owner.host === hostname()
          ? 'Stop that process, or use another data directory.'
          : `Stop it there, or use another data directory; if that process is gone, delete ${path.join(dataDir, LOCK_FILE)}.`),
    );
    this.name = 'StoreInUseError';
  }
}

export interface StoreLock {
  owner: LockOwner;
  /** The dead owner whose lock this start broke, if any. */
  broke: LockOwner | null;
  /** Removes the lock if it is still this one. */
  release(): Promise<void>;
}

const ATTEMPTS = 8;

/** Takes the store lock of `dataDir` (which must exist), breaking a stale one. */
export async function acquireStoreLock(dataDir: string, command = describeCommand()): Promise<StoreLock> {
  const file = path.join(dataDir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    command,
    ...optional('processStart', await processStart(process.pid)),
    nonce: randomBytes(12).toString('hex'),
  };
  let broke: LockOwner | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await tryCreate(file, owner)) {
      return { owner, broke, release: () => release(file, owner) };
    }
    const current = await readOwner(file);
    if (current === 'missing') continue;
    if (current !== 'unreadable' && (await isAlive(current))) throw new StoreInUseError(dataDir, current);
    // Dead, or not a lock any Deputy wrote whole (the link makes a half-written lock impossible): stale.
    if (await breakLock(file, current)) broke = current === 'unreadable' ? null : current;
  }
  throw new Error(`Could not take the runtime store lock ${file}: other processes keep taking and breaking it.`);
}

async function tryCreate(file: string, owner: LockOwner): Promise<boolean> {
  const temp = `${file}.${owner.pid}.${owner.nonce}.tmp`;
  await fs.writeFile(temp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  try {
    await fs.link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

async function readOwner(file: string): Promise<LockOwner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.nonce !== 'string') return 'unreadable';
    return { since: '(unknown)', command: '(unknown)', ...value } as LockOwner;
  } catch {
    return 'unreadable';
  }
}

/**
 * Whether the owner still runs. Only a process on this host can be checked; one elsewhere counts as alive.
 * A pid that runs but started at another time than the owner did is a reused pid: the owner is gone.
 */
async function isAlive(owner: LockOwner): Promise<boolean> {
  if (owner.host !== hostname()) return true;
  return isSameProcessRunning(owner.pid, owner.processStart);
}

/**
 * Renames the stale lock away, then checks that the file renamed is the one judged stale. If another start
 * replaced it in between, that lock is put back (it belongs to a live owner) and this start tries again.
 */
async function breakLock(file: string, stale: LockOwner | 'unreadable'): Promise<boolean> {
  const grave = `${file}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(file, grave);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const moved = await readOwner(grave);
  const same = stale === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.nonce === stale.nonce;
  if (!same) {
    await fs.link(grave, file).catch(() => undefined);
    await fs.rm(grave, { force: true });
    return false;
  }
  await fs.rm(grave, { force: true });
  return true;
}

async function release(file: string, owner: LockOwner): Promise<void> {
  const current = await readOwner(file);
  if (typeof current === 'object' && current.nonce === owner.nonce) await fs.rm(file, { force: true });
}

/** `deputy serve --port 8739`, from this process's arguments; long task texts are cut. */
function describeCommand(): string {
  const script = process.argv[1] ? path.basename(process.argv[1]).replace(/\.(c?js|ts)$/, '') : 'node';
  const name = script === 'cli' || script === 'main' ? 'deputy' : script;
  const text = [name, ...process.argv.slice(2)].join(' ');
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
