/**
 * Deputy's own state: `.deputy/` in a workspace (the audit trail, lock files, the embedded runtime's store) and a
 * runtime's data folder. Two decisions live here.
 *
 * What of `.deputy/` belongs in version control (`prepareStateDir`):
 * - committed: the audit trail (`audit/audit.jsonl` and its `audit/audit.head`), which is evidence of what agents did
 *   and is verified by anyone with `deputy audit verify`; and the workspace's policy, `policy.json`;
 * - never committed: the embedded runtime's store and bearer token (`runtime/`), lock files, temporary files, and
 *   anything Deputy adds later. The `.gitignore` is an allow-list, so a new kind of state file is ignored by default.
 *
 * That it is opened safely (`ensureStateDir`, `openStateFile`): a repository can commit a symbolic link named
 * `.deputy` (or `.deputy/audit`, or `audit.jsonl`) pointing anywhere; following it would let whoever wrote the
 * repository redirect Deputy's writes outside the workspace, or make Deputy append its trail to a file they control.
 * So every folder from `.deputy` down must be a real folder owned by the user running Deputy (checked with `lstat`,
 * created with mode 0700 when missing), and files in it are opened with `O_NOFOLLOW` and checked on the open handle
 * (a regular file, same owner). Anything else is refused with a `StateDirError` naming the path and what to do;
 * nothing is written.
 *
 * The folders are checked before use, not locked: someone able to swap a folder for a link between the check and
 * the open already has write access to the workspace. What this stops is the link that was there all along.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';

/** Deputy's own state is, or is inside, something it will not use: a link, a file, or another user's folder. */
export class StateDirError extends Error {
  override readonly name = 'StateDirError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const STATE_ROOT = '.deputy';

/** The user id files must belong to; null where the platform has none (Windows), which skips the owner check. */
function currentUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null;
}

function refuseLink(p: string, target: string | null): StateDirError {
  return new StateDirError(
    p,
    `${p} is a symbolic link${target ? ` (to ${target})` : ''}. Deputy keeps its audit trail and state only in real ` +
      'folders it created, because a link committed to a repository could send those writes anywhere. Remove ' +
      `the link (\`rm ${p}\`) and run again; Deputy recreates the folder.`,
  );
}

function refuseOwner(p: string, stats: Stats, uid: number): StateDirError {
  return new StateDirError(
    p,
    `${p} belongs to user id ${stats.uid}, not to you (user id ${uid}). Deputy keeps its audit trail and state only ` +
      'in folders and files you own. Move it aside or change its owner (`chown`) and run again.',
  );
}

function checkStats(p: string, stats: Stats, kind: 'folder' | 'file'): void {
  if (stats.isSymbolicLink()) throw refuseLink(p, null);
  const right = kind === 'folder' ? stats.isDirectory() : stats.isFile();
  if (!right) {
    throw new StateDirError(p, `${p} should be a ${kind} of Deputy's state but is something else. Move it aside and run again.`);
  }
  const uid = currentUid();
  if (uid !== null && stats.uid !== uid) throw refuseOwner(p, stats, uid);
}

async function linkTarget(p: string): Promise<string | null> {
  try {
    return await fs.readlink(p);
  } catch {
    return null;
  }
}

/**
 * The folders of `dir` that are Deputy's own: from `root` (when given: a state folder named by the person, such as
 * `DEPUTY_HOME`, whatever it is called) or else the last `.deputy` component, down to `dir` itself; `dir` alone when
 * neither applies (a data folder given by flag: its parents are the user's business).
 */
function ownedFolders(dir: string, root?: string): string[] {
  const abs = path.resolve(dir);
  if (root !== undefined) {
    const top = path.resolve(root);
    const rel = path.relative(top, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new StateDirError(abs, `${abs} is not inside Deputy's state folder ${top}.`);
    const out = [top];
    for (const part of rel === '' ? [] : rel.split(path.sep)) out.push(path.join(out[out.length - 1]!, part));
    return out;
  }
  const parts = abs.split(path.sep);
  const at = parts.lastIndexOf(STATE_ROOT);
  if (at <= 0) return [abs];
  const out: string[] = [];
  for (let i = at; i < parts.length; i++) out.push(parts.slice(0, i + 1).join(path.sep) || path.sep);
  return out;
}

/**
 * Makes sure `dir` exists as Deputy's own state folder: every folder from `.deputy` (or `root`, see `ownedFolders`)
 * down is created (mode 0700) when missing and otherwise must be a real folder owned by the user. Throws
 * `StateDirError` otherwise.
 */
export async function ensureStateDir(dir: string, root?: string): Promise<void> {
  const folders = ownedFolders(dir, root);
  // Above Deputy's own folders the path is the user's (a workspace reached through a link is fine).
  await fs.mkdir(path.dirname(folders[0]!), { recursive: true });
  for (const folder of folders) {
    let stats: Stats;
    try {
      stats = await fs.lstat(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      try {
        await fs.mkdir(folder, { mode: 0o700 });
      } catch (mkErr) {
        if ((mkErr as NodeJS.ErrnoException).code !== 'EEXIST') throw mkErr;
      }
      stats = await fs.lstat(folder);
    }
    if (stats.isSymbolicLink()) throw refuseLink(folder, await linkTarget(folder));
    checkStats(folder, stats, 'folder');
  }
}

/** How a state file is opened: read, append (creating), read and append, or create new (fails if it exists). */
export type StateFileMode = 'r' | 'a' | 'a+' | 'r+' | 'w' | 'wx';

const FLAGS: Record<StateFileMode, number> = {
  r: constants.O_RDONLY,
  a: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
  'a+': constants.O_RDWR | constants.O_APPEND | constants.O_CREAT,
  'r+': constants.O_RDWR,
  w: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
  wx: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
};

/** `O_NOFOLLOW` where the platform has it (not Windows, where links need privileges to create). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Opens a file of Deputy's state without following a link at its name; the open handle must be a regular file
 * owned by the user. Check its folder with `ensureStateDir` first (once, when the owner of the file starts using
 * it). Errors other than a refusal (a missing file opened with 'r', a lock file that exists opened with 'wx')
 * propagate with their usual codes.
 */
export async function openStateFile(file: string, how: StateFileMode, mode = 0o600): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, FLAGS[how] | NOFOLLOW, mode);
  } catch (err) {
    // ELOOP is how O_NOFOLLOW reports a link at the name (EMLINK on FreeBSD).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw refuseLink(file, await linkTarget(file));
    throw err;
  }
  try {
    checkStats(file, await handle.stat(), 'file');
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/**
 * Replaces a small JSON state file through a temp file and a rename, so a reader never sees half of it. The temp file
 * is this write's own (pid and a random tag, created exclusively): two writes of one file at once, from one process
 * or two, each rename a whole file, and the last rename wins.
 */
export async function writeStateJson(file: string, value: unknown): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await openStateFile(temp, 'wx');
  try {
    await handle.writeFile(`${JSON.stringify(value)}\n`);
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
}

/** Reads a state file whole through `openStateFile`; null when it does not exist. */
export async function readStateFile(file: string): Promise<string | null> {
  let handle: fs.FileHandle;
  try {
    handle = await openStateFile(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export const STATE_GITIGNORE = `# Written by Deputy (see its README, "What goes into git").
# Committed: the audit trail (evidence) and the workspace policy (policy.json, policy.cedar).
# Never committed: your grants (grants.cedar), the runtime's store and token, locks, temporary files, anything else.
*
!.gitignore
!policy.json
!policy.cedar
!audit/
audit/*
!audit/audit.jsonl
!audit/audit.head
`;

/** What earlier versions wrote: replaced by the allow-list when found exactly so. */
const PREVIOUS_GITIGNORES = new Set([
  'runtime/\n',
  // Before the Cedar policy file (`policy.cedar`) was committed too.
  `# Written by Deputy (see its README, "What goes into git").
# Committed: the audit trail (evidence) and the workspace policy.
# Never committed: the runtime's store and token, locks, temporary files, anything else.
*
!.gitignore
!policy.json
!audit/
audit/*
!audit/audit.jsonl
!audit/audit.head
`,
]);

/**
 * Creates `<root>/.deputy` when missing and gives it its `.gitignore`. The file is created exclusively (`wx`: a
 * symlink in its place is never followed) and left alone when someone else wrote it; Deputy's own older version
 * is replaced through a rename, which replaces a link rather than writing through it.
 */
export async function prepareStateDir(root: string): Promise<string> {
  const dir = path.join(root, '.deputy');
  // Refuses a `.deputy` that is a link or not the user's before anything is written into it.
  await ensureStateDir(dir);
  const file = path.join(dir, '.gitignore');
  try {
    await fs.writeFile(file, STATE_GITIGNORE, { flag: 'wx', mode: 0o644 });
    return dir;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const existing = await fs.lstat(file);
  if (!existing.isFile()) return dir;
  if (!PREVIOUS_GITIGNORES.has(await fs.readFile(file, 'utf8'))) return dir;
  const temp = path.join(dir, `.gitignore.${process.pid}.tmp`);
  await fs.writeFile(temp, STATE_GITIGNORE, { flag: 'wx', mode: 0o644 });
  await fs.rename(temp, file);
  return dir;
}

/** Whether a process with this pid is alive on this host (EPERM: alive, owned by someone else). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the process with this pid started (field 22 of /proc/<pid>/stat, clock ticks since boot, read after the
 * parenthesised command name, which may hold spaces); undefined off Linux or when it cannot be read. A pid is
 * reused once its process is gone: the start time tells the process that registered from a stranger with its pid.
 */
export async function processStart(pid: number): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that recorded `pid` (and, when it recorded one, its `processStart`) still runs on this host:
 * false when the pid is free, or now belongs to a process that started at another time.
 */
export async function isSameProcessRunning(pid: number, start: string | undefined): Promise<boolean> {
  if (!isProcessRunning(pid)) return false;
  if (start === undefined) return true;
  const now = await processStart(pid);
  return now === undefined || now === start;
}
