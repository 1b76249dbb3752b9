/**
 * The shadow workspace: where a managed agent's writes and commands land instead of the real workspace.
 *
 * It is an exact snapshot of the working tree as git sees it (tracked and untracked files, uncommitted changes
 * included, ignored files and `.deputy/` excluded), taken without touching the real repository:
 * - Deputy keeps its own bare repository (`<shadow>/meta.git`) that borrows the real object store read-only
 *   through `objects/info/alternates`, so only new or changed blobs are written, and they go to Deputy's store;
 * - the snapshot is `git add -A` into a *copy* of the real index (so unchanged files are not even re-hashed),
 *   then `write-tree`: one tree id that is the baseline every later diff is taken against;
 * - the shadow folder is that tree checked out with `read-tree` + `checkout-index` into a folder Deputy owns.
 * Outside git the same steps run with the workspace as the work tree of Deputy's repository, so `.gitignore` files
 * are honoured and the copy is content-addressed all the same.
 *
 * The shadow has no `.git` of its own: git metadata the agent could rewrite (hooks, config) never exists there, and
 * Deputy's bookkeeping lives beside the shadow folder, not in it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { git, gitText } from './git.js';

/** Paths never snapshotted: Deputy's own state, at any depth. */
export const EXCLUDED_PATHSPEC = ':(exclude,glob)**/.deputy/**';

export interface ShadowOptions {
  /** Where shadows are made; `<os tmp>/deputy-shadows` when absent. */
  baseDir?: string;
}

export class Shadow {
  private constructor(
    /** The real workspace (a real path). */
    readonly workspaceRoot: string,
    /** The shadow folder the agent works in (a real path). */
    readonly root: string,
    /** Deputy's folder for this shadow: `root`'s parent, holding `meta.git` and the index files. */
    readonly home: string,
    /** The tree the shadow is compared against: the snapshot, advanced by every review. */
    private baselineTree: string,
    /** The snapshot as taken (the baseline before any review). */
    private readonly snapshotTree: string = baselineTree,
  ) {}

  static async create(workspaceRoot: string, options: ShadowOptions = {}): Promise<Shadow> {
    const workspace = await fs.realpath(workspaceRoot);
    const base = options.baseDir ?? path.join(os.tmpdir(), 'deputy-shadows');
    await fs.mkdir(base, { recursive: true, mode: 0o700 });
    const home = await fs.mkdtemp(path.join(base, `${path.basename(workspace).replace(/[^\w.-]/g, '_').slice(0, 40)}-`));
    const shadowRoot = path.join(home, 'work');
    await fs.mkdir(shadowRoot, { mode: 0o700 });
    const metaGit = path.join(home, 'meta.git');
    await git(['init', '-q', '--bare', metaGit], { cwd: home });

    const repo = await findRepository(workspace);
    const snapshotIndex = path.join(home, 'snapshot.index');
    let tree: string;
    if (repo) {
      await fs.writeFile(path.join(metaGit, 'objects', 'info', 'alternates'), `${repo.objects}\n`);
      // The repository's own ignore list (info/exclude) decides what is "ignored" in later diffs too.
      await fs.copyFile(path.join(repo.commonDir, 'info', 'exclude'), path.join(metaGit, 'info', 'exclude')).catch(ignoreMissing);
      // A copy of the real index keeps its stat data: `add -A` then hashes only what changed since the last commit.
      await copyIndex(path.join(repo.gitDir, 'index'), snapshotIndex).catch(ignoreMissing);
      const env = {
        GIT_DIR: repo.gitDir,
        GIT_WORK_TREE: repo.topLevel,
        GIT_INDEX_FILE: snapshotIndex,
        GIT_OBJECT_DIRECTORY: path.join(metaGit, 'objects'),
        GIT_ALTERNATE_OBJECT_DIRECTORIES: repo.objects,
      };
      await git(['add', '-A', '--', '.', EXCLUDED_PATHSPEC], { cwd: workspace, env });
      await git(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', ':(glob)**/.deputy/**'], { cwd: workspace, env });
      tree = (await gitText(['write-tree', ...(repo.prefix ? [`--prefix=${repo.prefix}`] : [])], { cwd: workspace, env })).trim();
    } else {
      const env = { GIT_DIR: metaGit, GIT_WORK_TREE: workspace, GIT_INDEX_FILE: snapshotIndex };
      await git(['add', '-A', '--', '.', EXCLUDED_PATHSPEC], { cwd: workspace, env });
      tree = (await gitText(['write-tree'], { cwd: workspace, env })).trim();
    }

    const shadow = new Shadow(workspace, await fs.realpath(shadowRoot), home, tree);
    const env = shadow.gitEnv('work.index');
    await git(['read-tree', tree], { cwd: shadow.root, env });
    await git(['checkout-index', '-a', '-f', '-u', '-q'], { cwd: shadow.root, env });
    return shadow;
  }

  get baseline(): string {
    return this.baselineTree;
  }

  /** The workspace-relative paths of every file the snapshot copied into the shadow. */
  async snapshotFiles(): Promise<string[]> {
    this.snapshotList ??= gitText(['ls-tree', '-r', '-z', '--name-only', this.snapshotTree], { cwd: this.root, env: this.gitEnv('work.index') }).then((out) =>
      out.split('\0').filter((p) => p.length > 0),
    );
    return this.snapshotList;
  }
  private snapshotList: Promise<string[]> | undefined;

  /** The environment for git commands over the shadow with one of Deputy's index files. */
  gitEnv(indexName: string): Record<string, string> {
    return {
      GIT_DIR: path.join(this.home, 'meta.git'),
      GIT_WORK_TREE: this.root,
      GIT_INDEX_FILE: path.join(this.home, indexName),
    };
  }

  /** Writes the shadow's current content as a tree (ignored files and `.deputy/` left out). */
  async currentTree(): Promise<string> {
    const index = 'review.index';
    await copyIndex(path.join(this.home, 'work.index'), path.join(this.home, index));
    const env = this.gitEnv(index);
    await git(['add', '-A', '--', '.', EXCLUDED_PATHSPEC], { cwd: this.root, env });
    await git(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', ':(glob)**/.deputy/**'], { cwd: this.root, env });
    const tree = (await gitText(['write-tree'], { cwd: this.root, env })).trim();
    // The refreshed stat data makes the next diff cheap.
    await copyIndex(path.join(this.home, index), path.join(this.home, 'work.index'));
    return tree;
  }

  /** The bytes of a blob in Deputy's store (or the real repository's, through alternates). */
  blob(sha: string): Promise<Buffer> {
    return git(['cat-file', 'blob', sha], { cwd: this.root, env: this.gitEnv('work.index') });
  }

  /**
   * Moves the baseline: `approved` paths now compare against their current shadow content (from `current`), the
   * rest against what they were. So a kept change is not offered again, and a conflict stays pending.
   */
  async advanceBaseline(current: string, approved: readonly string[], kept: ReadonlyMap<string, string> = new Map()): Promise<void> {
    if (approved.length === 0) return;
    const env = this.gitEnv('baseline.index');
    await git(['read-tree', this.baselineTree], { cwd: this.root, env });
    const entries = await git(['ls-tree', '-r', '-z', current, '--', ...approved], { cwd: this.root, env });
    const present = new Set<string>();
    const info: string[] = [];
    for (const line of entries.toString('utf8').split('\0')) {
      if (!line) continue;
      const tab = line.indexOf('\t');
      const [mode, , sha] = line.slice(0, tab).split(' ');
      const p = line.slice(tab + 1);
      present.add(p);
      // A file of which only some hunks were kept: the baseline takes what was written, not the agent's version.
      const text = kept.get(p);
      const blob = text === undefined ? sha : (await gitText(['hash-object', '-w', '--stdin'], { cwd: this.root, env, input: text })).trim();
      info.push(`${mode} ${blob}\t${p}`);
    }
    const removed = approved.filter((p) => !present.has(p));
    if (removed.length) await git(['update-index', '--force-remove', '-z', '--stdin'], { cwd: this.root, env, input: `${removed.join('\0')}\0` });
    if (info.length) await git(['update-index', '--add', '-z', '--index-info'], { cwd: this.root, env, input: `${info.join('\0')}\0` });
    this.baselineTree = (await gitText(['write-tree'], { cwd: this.root, env })).trim();
  }

  /** Deletes the shadow and Deputy's bookkeeping for it. */
  async dispose(): Promise<void> {
    await fs.rm(this.home, { recursive: true, force: true });
  }
}

/**
 * Copies an index file with its modification time. Git trusts a file's cached stat data only when the file was
 * modified before the index was written, which it reads from the index file's own mtime: a file changed in the same
 * second (or clock tick) is "racily clean" and its content is checked. A plain copy would date the index to the copy,
 * so a same-size edit made in the second the index was written would pass as unchanged, and the agent's change would
 * never be offered for review. The copy is dated to the start of the original's second: never later, which would hide
 * an edit again (Node's `Date` times are rounded to the millisecond, which can be later), at the cost of checking by
 * content the few files changed earlier in that second.
 */
async function copyIndex(from: string, to: string): Promise<void> {
  const { atime, mtimeMs } = await fs.stat(from);
  await fs.copyFile(from, to);
  await fs.utimes(to, atime, Math.floor(mtimeMs / 1000));
}

interface Repository {
  gitDir: string;
  topLevel: string;
  /** The workspace's folder inside the repository, `a/b/`, or '' at the top. */
  prefix: string;
  commonDir: string;
  objects: string;
}

async function findRepository(workspace: string): Promise<Repository | null> {
  let out: string;
  try {
    out = await gitText(['rev-parse', '--is-inside-work-tree', '--absolute-git-dir', '--git-common-dir', '--show-toplevel', '--show-prefix'], { cwd: workspace });
  } catch {
    return null;
  }
  const [inside, gitDir, common, topLevel, prefix] = out.split('\n');
  if (inside !== 'true' || !gitDir || !common || !topLevel) return null;
  const commonDir = path.resolve(workspace, common);
  return { gitDir, topLevel, prefix: prefix ?? '', commonDir, objects: path.join(commonDir, 'objects') };
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

/** A short random id for things Deputy names (sessions, shadows). */
export function newId(): string {
  return randomBytes(8).toString('hex');
}
