/**
 * The read-only workspace tools the agent calls (`workspace_list`, `workspace_read`, `workspace_search`), run on
 * the developer's machine. All paths go through `resolveInWorkspace`; `.git` and `node_modules` are never walked
 * and symlinks are listed but never followed while walking.
 */
import { promises as fs } from 'node:fs';
import type { Dirent } from 'node:fs';
import * as path from 'node:path';
import type {
  WorkspaceEntry,
  WorkspaceListArgs,
  WorkspaceListResult,
  WorkspaceReadArgs,
  WorkspaceReadResult,
  WorkspaceSearchArgs,
  WorkspaceSearchMatch,
  WorkspaceSearchResult,
} from '../protocol/tools.js';
import { compileGlob, type GlobMatcher } from './glob.js';
import { RE2JS } from 're2js';
import { WalkBudget, type WalkOptions } from './walk-budget.js';
import { WorkspaceError } from './workspace-error.js';
import { isGitSegment, printablePath, resolveInWorkspace, type ResolvedPath } from './workspace-paths.js';
import { MAX_TEXT_FILE_BYTES, decodeText, formatBytes, sha256Hex } from './workspace-text.js';

export { WorkspaceError } from './workspace-error.js';
export type { WalkOptions, WalkLimits } from './walk-budget.js';
export type { WorkspaceErrorCode } from './workspace-error.js';

export const MAX_LIST_ENTRIES = 2000;
export const DEFAULT_LIST_DEPTH = 2;
export const MAX_LIST_DEPTH = 10;
export const DEFAULT_SEARCH_RESULTS = 100;
export const MAX_SEARCH_RESULTS = 1000;
/** Matched lines are cut to this many characters in results; longer lines (minified code) are not searched. */
export const MAX_SEARCH_LINE_CHARS = 500;
const MAX_SEARCHED_LINE_CHARS = 20_000;
/** Not walked by list and search: dependencies, and Deputy's own state (audit trail, runtime store). */
const SKIPPED_DIRS = new Set(['node_modules', '.deputy']);

function isSkippedDir(name: string): boolean {
  return isGitSegment(name) || SKIPPED_DIRS.has(name);
}

/**
 * A glob filter for the tools: a pattern with a `/` matches the whole relative path; one without (`*.ts`) matches
 * the file name at any depth, which is what a model asking for "*.ts" means.
 */
function compileFilter(glob: string | undefined): ((rel: string) => boolean) | undefined {
  if (glob === undefined || glob === '') return undefined;
  if (typeof glob !== 'string') throw new WorkspaceError('invalid_query', 'glob must be a string.');
  let re: GlobMatcher;
  try {
    re = compileGlob(glob);
  } catch (err) {
    throw new WorkspaceError('invalid_query', (err as Error).message);
  }
  if (glob.includes('/')) return (rel) => re.test(rel);
  return (rel) => re.test(rel) || re.test(rel.slice(rel.lastIndexOf('/') + 1));
}

function clampInt(value: unknown, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new WorkspaceError('invalid_query', `${name} must be a whole number.`);
  }
  return Math.min(max, Math.max(min, value));
}

/** Splits text into lines, each keeping its own terminator, so a line range re-joins to the exact original text. */
function linesWithTerminators(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export class Workspace {
  private constructor(readonly root: string) {}

  /** Opens the folder at `root` (resolved with realpath); it must exist and be a directory. */
  static async open(root: string): Promise<Workspace> {
    let real: string;
    try {
      real = await fs.realpath(root);
    } catch {
      throw new WorkspaceError('not_found', `The workspace folder ${root} does not exist.`);
    }
    if (!(await fs.stat(real)).isDirectory()) {
      throw new WorkspaceError('not_a_directory', `The workspace ${root} is not a folder.`);
    }
    return new Workspace(real);
  }

  /**
   * Resolves a relative `/`-separated path. Throws WorkspaceError if it is absolute, contains NUL, control
   * characters or backslashes, escapes the root (`..`, or any symlink along the way pointing outside), or is
   * inside `.git/`. For a path that does not exist yet, the existing part is resolved and the rest appended.
   */
  resolve(relPath: string): Promise<ResolvedPath> {
    return resolveInWorkspace(this.root, relPath);
  }

  /**
   * `visible` hides entries (policy: paths the agent may not even see); hidden ones are simply absent. The walk
   * keeps to its budget and stops on `options.signal`; the result's `stopped` then says where and why.
   */
  async list(
    args: WorkspaceListArgs,
    visible: (rel: string) => boolean = () => true,
    options: WalkOptions = {},
  ): Promise<WorkspaceListResult> {
    const base = await this.resolve(args.path ?? '');
    const depth = clampInt(args.depth, DEFAULT_LIST_DEPTH, 1, MAX_LIST_DEPTH, 'depth');
    const filter = compileFilter(args.glob);
    const stat = await this.statExisting(base);
    if (!stat.isDirectory()) {
      throw new WorkspaceError('not_a_directory', `"${printablePath(base.rel)}" is a file, not a folder; use workspace_read to read it.`);
    }
    const entries: WorkspaceEntry[] = [];
    let truncated = false;
    const budget = new WalkBudget(options);
    const walk = async (abs: string, rel: string, level: number): Promise<void> => {
      if (!budget.check()) return;
      for (const dirent of await readDirSorted(abs)) {
        if (entries.length >= MAX_LIST_ENTRIES) {
          truncated = true;
          return;
        }
        if (dirent.isDirectory() && isSkippedDir(dirent.name)) continue;
        if (!budget.enter()) return;
        const childAbs = path.join(abs, dirent.name);
        const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
        const type: WorkspaceEntry['type'] = dirent.isSymbolicLink() ? 'symlink' : dirent.isDirectory() ? 'dir' : 'file';
        if (!visible(childRel)) continue;
        if (!filter || filter(childRel)) {
          const size = type === 'file' ? await fileSize(childAbs) : 0;
          entries.push({ path: childRel, type, size });
        }
        if (type === 'dir' && level < depth) await walk(childAbs, childRel, level + 1);
        if (budget.stopped) return;
      }
    };
    await walk(base.abs, base.rel, 1);
    const stopped = budget.report();
    return { entries, truncated: truncated || stopped !== undefined, ...(stopped ? { stopped } : {}) };
  }

  async read(args: WorkspaceReadArgs): Promise<WorkspaceReadResult> {
    const target = await this.resolve(args.path);
    const shown = printablePath(target.rel);
    const stat = await this.statExisting(target);
    if (!stat.isFile()) {
      throw new WorkspaceError('not_a_file', `"${shown}" is ${stat.isDirectory() ? 'a folder; use workspace_list to see its entries' : 'not a regular file'}.`);
    }
    if (stat.size > MAX_TEXT_FILE_BYTES) {
      throw new WorkspaceError(
        'too_large',
        `"${shown}" is ${formatBytes(stat.size)}, over the ${formatBytes(MAX_TEXT_FILE_BYTES)} read limit; use workspace_search to find the part you need.`,
      );
    }
    const bytes = await fs.readFile(target.abs);
    const text = decodeText(bytes);
    if (text === null) throw new WorkspaceError('binary', `"${shown}" is a binary file; only text files can be read.`);
    const lines = linesWithTerminators(text.startsWith('\uFEFF') ? text.slice(1) : text);
    const start = clampInt(args.start_line, 1, 1, Number.MAX_SAFE_INTEGER, 'start_line');
    const end = clampInt(args.end_line, lines.length, 1, Number.MAX_SAFE_INTEGER, 'end_line');
    if (start > Math.max(lines.length, 1)) {
      throw new WorkspaceError('invalid_range', `start_line ${start} is past the end of "${shown}", which has ${lines.length} lines.`);
    }
    if (end < start) throw new WorkspaceError('invalid_range', `end_line ${end} is before start_line ${start}.`);
    return {
      path: target.rel,
      text: lines.slice(start - 1, end).join(''),
      total_lines: lines.length,
      sha256: sha256Hex(bytes),
    };
  }

  /**
   * `searchable` decides, per file, whether its content may be searched without asking the person (policy);
   * the others are named in `withheld_files` so the agent can ask to read them instead.
   */
  async search(
    args: WorkspaceSearchArgs,
    searchable: (rel: string) => boolean = () => true,
    options: WalkOptions = {},
  ): Promise<WorkspaceSearchResult> {
    if (typeof args.query !== 'string' || args.query === '') {
      throw new WorkspaceError('invalid_query', 'query must be a non-empty string.');
    }
    let test: (line: string) => boolean;
    if (args.regex) {
      // RE2 semantics (linear time): a pattern from the model can never stall the engine with backtracking.
      let re: RE2JS;
      try {
        re = RE2JS.compile(args.query);
      } catch (err) {
        throw new WorkspaceError(
          'invalid_query',
          `The regular expression is invalid (RE2 syntax: no backreferences or lookaround): ${(err as Error).message}`,
        );
      }
      test = (line) => re.matcher(line).find();
    } else {
      const needle = args.query;
      test = (line) => line.includes(needle);
    }
    const filter = compileFilter(args.glob);
    const max = clampInt(args.max_results, DEFAULT_SEARCH_RESULTS, 1, MAX_SEARCH_RESULTS, 'max_results');
    const matches: WorkspaceSearchMatch[] = [];
    const withheld: string[] = [];
    let truncated = false;
    const budget = new WalkBudget(options);
    const walk = async (abs: string, rel: string): Promise<void> => {
      if (!budget.check()) return;
      for (const dirent of await readDirSorted(abs)) {
        if (truncated) return;
        if (dirent.isDirectory() && isSkippedDir(dirent.name)) continue;
        if (!budget.enter()) return;
        const childAbs = path.join(abs, dirent.name);
        const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
        if (dirent.isDirectory()) {
          await walk(childAbs, childRel);
          if (budget.stopped) return;
          continue;
        }
        if (!dirent.isFile() || (filter && !filter(childRel))) continue;
        if (!searchable(childRel)) {
          withheld.push(childRel);
          continue;
        }
        const text = await readSearchableText(childAbs, budget);
        if (budget.stopped) return;
        if (text === null) continue;
        const lines = text.split('\n');
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i]!.replace(/\r$/, '');
          if (line.length > MAX_SEARCHED_LINE_CHARS || !test(line)) continue;
          if (matches.length >= max) {
            truncated = true;
            return;
          }
          matches.push({ path: childRel, line: i + 1, text: line.length > MAX_SEARCH_LINE_CHARS ? `${line.slice(0, MAX_SEARCH_LINE_CHARS)}…` : line });
        }
      }
    };
    await walk(this.root, '');
    const stopped = budget.report();
    return {
      matches,
      truncated: truncated || stopped !== undefined,
      ...(withheld.length > 0 ? { withheld_files: withheld } : {}),
      ...(stopped ? { stopped } : {}),
    };
  }

  private async statExisting(target: ResolvedPath) {
    try {
      return await fs.stat(target.abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new WorkspaceError('not_found', `"${printablePath(target.rel)}" does not exist in the workspace; use workspace_list to see what does.`);
      }
      throw err;
    }
  }
}

async function readDirSorted(abs: string): Promise<Dirent[]> {
  try {
    const dirents = await fs.readdir(abs, { withFileTypes: true });
    return dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    // A folder that vanished or is unreadable mid-walk is skipped rather than failing the whole listing.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR') return [];
    throw err;
  }
}

async function fileSize(abs: string): Promise<number> {
  try {
    return (await fs.lstat(abs)).size;
  } catch {
    return 0;
  }
}

/** The file's text, or null when it is not a searchable text file or the budget has no room for it. */
async function readSearchableText(abs: string, budget: WalkBudget): Promise<string | null> {
  try {
    const stat = await fs.lstat(abs);
    if (!stat.isFile() || stat.size > MAX_TEXT_FILE_BYTES) return null;
    if (!budget.read(stat.size)) return null;
    return decodeText(await fs.readFile(abs));
  } catch {
    return null;
  }
}
