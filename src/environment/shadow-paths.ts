/**
 * Where a `file://` URI from the harness lands. The harness names files by the real workspace's absolute paths (it
 * was started in the real workspace), or by the shadow's (a command printed `pwd`); both map into the shadow, and
 * nothing else is reachable. After mapping, the path is resolved component by component (`resolveInWorkspace`),
 * so a symlink leading out of the shadow, a `..`, `.git` or `.deputy` is refused before any handler touches disk.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ExecErrorCodes } from '../protocol/exec-server.js';
import { WorkspaceError } from '../core/workspace-error.js';
import { printablePath, resolveInWorkspace, type ResolvedPath } from '../core/workspace-paths.js';
import { ExecError } from './rpc.js';

export interface ShadowRoots {
  /** The real workspace's path, as the harness knows it. */
  workspaceRoot: string;
  /** The shadow folder (a real path). */
  shadowRoot: string;
}

/** Why a URI was refused; handlers turn `outside` into "not found" for reads and a refusal for writes. */
export type UriRefusal = 'invalid' | 'outside' | 'protected';

export class UriError extends ExecError {
  constructor(
    readonly refusal: UriRefusal,
    code: number,
    message: string,
  ) {
    super(code, message);
  }
}

/** The absolute local path a `file://` URI names; -32602 for anything else (as the exec-server answers). */
export function uriToPath(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UriError('invalid', ExecErrorCodes.invalidParams, 'invalid URI: relative URL without a base');
  }
  if (url.protocol !== 'file:') throw new UriError('invalid', ExecErrorCodes.invalidParams, `invalid URI: expected a file:// URI, got ${url.protocol}`);
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw new UriError('invalid', ExecErrorCodes.invalidParams, `invalid URI: file URIs on another host (${url.hostname}) are not served`);
  }
  // The URL parser folds `..` away; Deputy refuses it outright, as it does for client tools.
  const raw = uri.slice(uri.indexOf(':') + 1).split(/[?#]/)[0]!;
  if (raw.split('/').some((segment) => safeDecode(segment) === '..')) {
    throw new UriError('outside', ExecErrorCodes.invalidRequest, `the path ${printablePath(uri)} contains "..", which Deputy's environment refuses; name the file directly`);
  }
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new UriError('invalid', ExecErrorCodes.invalidParams, `invalid URI: ${(err as Error).message}`);
  }
}

export function pathToUri(p: string): string {
  return pathToFileURL(p).href;
}

export interface ShadowPath extends ResolvedPath {
  /** The path as the harness named it (for messages). */
  shown: string;
}

/**
 * Maps `uri` into the shadow and resolves it. Throws UriError: `invalid` (not a file URI), `outside` (not under the
 * workspace or the shadow, or leading out of it through `..` or a link), `protected` (`.git` or `.deputy`).
 */
export async function resolveUri(roots: ShadowRoots, uri: string): Promise<ShadowPath> {
  const abs = uriToPath(uri);
  const rel = relativeTo(roots.shadowRoot, abs) ?? relativeTo(roots.workspaceRoot, abs);
  const shown = printablePath(abs);
  if (rel === null) {
    throw new UriError('outside', ExecErrorCodes.notFound, `${shown} is outside the workspace Deputy serves (${roots.workspaceRoot}); the agent works only inside it`);
  }
  try {
    return { ...(await resolveInWorkspace(roots.shadowRoot, rel)), shown };
  } catch (err) {
    if (!(err instanceof WorkspaceError)) throw err;
    const refusal: UriRefusal = err.code === 'git_dir' || err.code === 'deputy_dir' ? 'protected' : 'outside';
    const code = err.code === 'not_a_directory' ? ExecErrorCodes.notFound : ExecErrorCodes.invalidRequest;
    throw new UriError(refusal, code, err.message);
  }
}

/** The harness-facing URI of a shadow path: under the real workspace root, where the harness believes it works. */
export function shadowToUri(roots: ShadowRoots, rel: string): string {
  return pathToUri(rel === '' ? roots.workspaceRoot : path.join(roots.workspaceRoot, ...rel.split('/')));
}

/** For summaries: the URI's path relative to the workspace (or the shadow), else the URI as given. */
export function workspaceRelative(roots: ShadowRoots, uri: string): string {
  try {
    const abs = fileURLToPath(uri);
    return relativeTo(roots.workspaceRoot, abs) ?? relativeTo(roots.shadowRoot, abs) ?? uri;
  } catch {
    return uri;
  }
}

function relativeTo(root: string, abs: string): string | null {
  const rel = path.relative(root, path.normalize(abs));
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
