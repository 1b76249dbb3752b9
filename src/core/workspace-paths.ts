/**
 * Resolving paths the agent names into real paths inside the workspace. Every file operation Deputy performs for
 * an agent goes through `resolveInWorkspace`, so this is where the workspace boundary is enforced.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { WorkspaceError } from './workspace-error.js';

export interface ResolvedPath {
  /** Real absolute path: every existing component resolved through symlinks, the rest appended. */
  abs: string;
  /** Normalized relative path (`/`-separated, no `.`/`..`/empty segments); '' is the root. */
  rel: string;
  /** `abs` relative to the root: differs from `rel` when a symlink inside the workspace was followed. Policy
   * judges both, so a link cannot dress a guarded file up as an unguarded one. */
  realRel: string;
}

const MAX_PATH_LENGTH = 4096;

/**
 * True for a path segment that names git's metadata folder on some filesystem: `.git` in any case, with the
 * trailing dots or spaces Windows strips, or its 8.3 short name `GIT~1`.
 */
export function isGitSegment(segment: string): boolean {
  return /^\.git[. ]*$/i.test(segment) || /^git~\d+$/i.test(segment);
}

/**
 * True for a segment naming Deputy's own state folder (audit trail, runtime store and token, workspace policy):
 * never read or changed by agents, in any case or Windows spelling.
 */
export function isDeputySegment(segment: string): boolean {
  return /^\.deputy[. ]*$/i.test(segment);
}

/** Text safe to put in a message: control characters shown as escapes, long input cut. */
export function printablePath(p: string): string {
  const cut = p.length > 200 ? `${p.slice(0, 200)}…` : p;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function isInside(root: string, abs: string): boolean {
  return abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function relSegments(root: string, abs: string): string[] {
  return path.relative(root, abs).split(path.sep).filter((s) => s !== '');
}

/** Checks the spelling of `relPath` and returns its normalized segments; touches no disk. */
export function normalizeRelPath(relPath: unknown): string[] {
  if (typeof relPath !== 'string') {
    throw new WorkspaceError('invalid_path', `The path must be a string, not ${relPath === null ? 'null' : typeof relPath}.`);
  }
  const shown = printablePath(relPath);
  if (relPath.length > MAX_PATH_LENGTH) {
    throw new WorkspaceError('invalid_path', `The path is ${relPath.length} characters long; at most ${MAX_PATH_LENGTH} are allowed.`);
  }
  if (relPath.includes('\0')) {
    throw new WorkspaceError('invalid_path', `The path "${shown}" contains a NUL byte; give a plain relative path.`);
  }
  if (/[\u0001-\u001f\u007f]/.test(relPath)) {
    throw new WorkspaceError('invalid_path', `The path "${shown}" contains a control character; give a plain relative path.`);
  }
  if (relPath.includes('\\')) {
    throw new WorkspaceError(
      'invalid_path',
      `The path "${shown}" contains a backslash; separate folders with "/" and give a path relative to the workspace root.`,
    );
  }
  if (relPath.startsWith('/') || /^[A-Za-z]:/.test(relPath)) {
    throw new WorkspaceError(
      'outside_workspace',
      `The path "${shown}" is absolute; give a path relative to the workspace root, e.g. "src/index.ts".`,
    );
  }
  const segments: string[] = [];
  for (const segment of relPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) {
        throw new WorkspaceError('outside_workspace', `The path "${shown}" leads outside the workspace through "..".`);
      }
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  if (segments.some(isGitSegment)) {
    throw new WorkspaceError('git_dir', `The path "${shown}" is inside a .git folder; git's metadata is never read or changed by agents.`);
  }
  if (segments.some(isDeputySegment)) {
    throw new WorkspaceError(
      'deputy_dir',
      `The path "${shown}" is inside .deputy/, which holds Deputy's audit trail, runtime state and policy; agents never read or change it.`,
    );
  }
  return segments;
}

/**
 * Resolves `relPath` against the real path `root`. Walks the path one component at a time with lstat, so a
 * symlink anywhere along it (including a dangling one, which a later write would follow) is resolved and checked
 * before anything uses it. Components that do not exist yet are appended as spelled.
 */
export async function resolveInWorkspace(root: string, relPath: unknown): Promise<ResolvedPath> {
  const segments = normalizeRelPath(relPath);
  const rel = segments.join('/');
  const shown = printablePath(rel);
  let current = root;
  for (let i = 0; i < segments.length; i++) {
    const next = path.join(current, segments[i]!);
    let stat;
    try {
      stat = await fs.lstat(next);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const abs = path.join(next, ...segments.slice(i + 1));
        return { abs, rel, realRel: relSegments(root, abs).join('/') };
      }
      if (code === 'ENAMETOOLONG') {
        throw new WorkspaceError('invalid_path', `The path "${shown}" is too long for this filesystem (a name may have at most 255 bytes).`);
      }
      if (code === 'ENOTDIR') {
        throw new WorkspaceError('not_a_directory', `The path "${shown}" goes through "${segments.slice(0, i).join('/')}", which is a file, not a folder.`);
      }
      throw err;
    }
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    const via = segments.slice(0, i + 1).join('/');
    let real: string;
    try {
      real = await fs.realpath(next);
    } catch {
      throw new WorkspaceError(
        'invalid_path',
        `The path "${shown}" goes through "${via}", a symbolic link whose target does not exist; Deputy does not follow it.`,
      );
    }
    if (!isInside(root, real)) {
      throw new WorkspaceError('outside_workspace', `The path "${shown}" goes through "${via}", a symbolic link that points outside the workspace.`);
    }
    if (relSegments(root, real).some(isGitSegment)) {
      throw new WorkspaceError('git_dir', `The path "${shown}" goes through "${via}", a symbolic link into a .git folder.`);
    }
    if (relSegments(root, real).some(isDeputySegment)) {
      throw new WorkspaceError('deputy_dir', `The path "${shown}" goes through "${via}", a symbolic link into .deputy/.`);
    }
    current = real;
  }
  return { abs: current, rel, realRel: relSegments(root, current).join('/') };
}
