/**
 * Validating and applying a large changeset: Deputy's `prepareChangeset` + `applyPreparedFiles` against `git apply`
 * of the same patch on an identical copy of the same repository, in two rows: plain `git apply` (writes in place,
 * no fsync: fast, and a crash can leave any file half-written) and durable `git apply` (then fsync of every file
 * it wrote, the least a tool must do before saying the change is on disk).
 *
 * The input is made once (untimed): a git repository of `files` files of `linesPerFile` lines, and a change to
 * every tenth line of every file, turned into a patch by `git diff` itself (so the reference reads its own format)
 * and split per file for `propose_changes`. Each round copies the working tree afresh for each side (without
 * `.git`: neither side needs it, and copying it would dominate the run); afterwards every file each side left must
 * be byte for byte the intended content, with nothing added beside them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ProposedChange } from '../src/protocol/tools.js';
import { applyPreparedFiles, DEFAULT_APPLY_CONCURRENCY, prepareChangeset, type ReadLedger } from '../src/core/changeset/index.js';
import { Workspace } from '../src/core/workspace.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { formatRatio } from './report.js';
import { compare, type Side } from './measure.js';

const exec = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV, maxBuffer: 1024 * 1024 * 1024 });
  return stdout;
}

function filePath(f: number): string {
  return `src/module_${Math.floor(f / 50).toString().padStart(3, '0')}/file_${f.toString().padStart(5, '0')}.ts`;
}

function fileText(f: number, lines: number, changed: boolean): string {
  const out: string[] = [];
  for (let l = 1; l <= lines; l++) {
    const edit = changed && l % 10 === 5;
    out.push(
      edit
        ? `export const value_${f}_${l} = compute(${(f * 131 + l * 17) % 1000}, 'revised'); // line ${l}`
        : `export const value_${f}_${l} = ${(f * 131 + l * 17) % 1000}; // line ${l} of file ${f}`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** The prepared input: a committed template repository, its patch, and what the tree must be after applying it. */
export interface Fixture {
  dir: string;
  template: string;
  patchFile: string;
  patchLines: number;
  changes: ProposedChange[];
  ledger: ReadLedger;
  /** Relative path → the content every file must have after the change. */
  expected: Map<string, string>;
}

export async function makeFixture(files: number, linesPerFile: number): Promise<Fixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-bench-changeset-'));
  const template = path.join(dir, 'template');
  const ledger = new Map<string, string>();
  const expected = new Map<string, string>();
  for (let f = 0; f < files; f++) {
    const abs = path.join(template, filePath(f));
    await fs.mkdir(path.dirname(abs), { recursive: true });
    const text = fileText(f, linesPerFile, false);
    await fs.writeFile(abs, text);
    // What workspace_read would have recorded: the SHA-256 of the file's bytes.
    ledger.set(filePath(f), createHash('sha256').update(text).digest('hex'));
  }
  await git(template, 'init', '-q');
  await git(template, 'add', '-A');
  await git(template, 'commit', '-qm', 'base');
  for (let f = 0; f < files; f++) {
    const text = fileText(f, linesPerFile, true);
    expected.set(filePath(f), text);
    await fs.writeFile(path.join(template, filePath(f)), text);
  }
  const patch = await git(template, 'diff', '--no-color', '--no-ext-diff');
  await git(template, 'reset', '-q', '--hard');
  await fs.rm(path.join(template, '.git'), { recursive: true, force: true });

  const patchFile = path.join(dir, 'change.patch');
  await fs.writeFile(patchFile, patch);
  const sections = patch.split(/^(?=diff --git )/m).filter((s) => s !== '');
  const changes = sections.map((diff): ProposedChange => {
    const m = /^diff --git a\/(\S+) b\//.exec(diff);
    if (!m) throw new Error(`git diff produced a section without a header: ${diff.slice(0, 80)}`);
    return { path: m[1]!, operation: 'update', diff, rationale: 'benchmark edit' };
  });
  if (changes.length !== files) throw new Error(`git diff covered ${changes.length} files, expected ${files}.`);
  return { dir, template, patchFile, patchLines: patch.split('\n').length - 1, changes, ledger, expected };
}

/** A fresh copy of the template's working tree for one side of one round. */
export async function freshCopy(fixture: Fixture): Promise<string> {
  const copy = await fs.mkdtemp(path.join(fixture.dir, 'copy-'));
  await fs.cp(fixture.template, copy, { recursive: true });
  return copy;
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(root, child)));
    else out.push(child);
  }
  return out;
}

/**
 * Throws unless `root` holds exactly the intended files with exactly the intended bytes (Deputy's own `.deputy/`
 * state aside when `ownState`); then removes it.
 */
export async function checkTreeAndRemove(root: string, fixture: Fixture, who: string, ownState = false): Promise<void> {
  try {
    const present = (await listFiles(root)).filter((p) => !ownState || !p.startsWith('.deputy/')).sort();
    const extra = present.filter((p) => !fixture.expected.has(p));
    if (extra.length > 0 || present.length !== fixture.expected.size) {
      throw new Error(`${who} left ${present.length} files where ${fixture.expected.size} were expected (unexpected: ${extra.slice(0, 5).join(', ') || 'none'}).`);
    }
    for (const [rel, text] of fixture.expected) {
      if ((await fs.readFile(path.join(root, rel), 'utf8')) !== text) throw new Error(`${who} left ${rel} with other content than the patch describes.`);
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** fsyncs every file of `rels` under `root`, `DEFAULT_APPLY_CONCURRENCY` at a time (as many as Deputy writes at once). */
async function fsyncAll(root: string, rels: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < rels.length) {
      const handle = await fs.open(path.join(root, rels[next++]!), 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: DEFAULT_APPLY_CONCURRENCY }, worker));
}

function changesetBenchmark(durable: boolean): Benchmark {
  return {
    id: durable ? 'changeset-durable' : 'changeset',
    title: durable ? 'Changeset validate + apply vs git apply + fsync of each file' : 'Changeset validate + apply vs git apply',
    async run(config: BenchConfig, log): Promise<BenchmarkResult> {
      log(`${this.id}: making a ${config.files}-file repository and its patch (untimed)`);
      const fixture = await makeFixture(config.files, config.linesPerFile);
      try {
        const ours: Side<string> = {
          label: 'prepareChangeset + applyPreparedFiles',
          setup: () => freshCopy(fixture),
          run: async (root) => {
            const ws = await Workspace.open(root);
            const prepared = await prepareChangeset(
              ws,
              { summary: 'Revise every tenth value', changes: fixture.changes },
              fixture.ledger,
              // Deputy's defaults cap one proposal far below this size; the benchmark measures the machinery.
              { maxFiles: fixture.changes.length, maxTotalBytes: Number.MAX_SAFE_INTEGER },
            );
            for (const file of prepared) {
              if (file.status !== 'ready') throw new Error(`prepareChangeset refused ${file.path}: ${file.status}: ${file.reason}`);
            }
            const results = await applyPreparedFiles(ws, prepared);
            const failed = results.find((r) => r.status !== 'applied');
            if (failed) throw new Error(`applyPreparedFiles did not apply ${failed.path}: ${failed.status}: ${failed.reason}`);
            return results.length;
          },
          teardown: (root) => checkTreeAndRemove(root, fixture, 'Deputy'),
        };
        const reference: Side<string> = {
          label: durable ? 'git apply + fsync' : 'git apply',
          setup: () => freshCopy(fixture),
          run: async (root) => {
            // The ceiling keeps git from finding a repository above the copy: it patches the plain folder.
            await exec('git', ['apply', fixture.patchFile], { cwd: root, env: { ...GIT_ENV, GIT_CEILING_DIRECTORIES: fixture.dir } });
            if (durable) await fsyncAll(root, [...fixture.expected.keys()]);
            return fixture.changes.length;
          },
          teardown: (root) => checkTreeAndRemove(root, fixture, 'git apply'),
        };
        log(`${this.id}: ${fixture.patchLines} patch lines, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
        const comparison = await compare(ours, reference, config);
        const fmt = (n: number) => n.toLocaleString('en-US');
        return {
          id: this.id,
          title: this.title,
          unit: 'files',
          input: `${fmt(config.files)} files × ${fmt(config.linesPerFile)} lines; a \`git diff\` patch of ${fmt(fixture.patchLines)} lines changing every tenth line of every file (${fmt(fixture.changes.reduce((n, c) => n + c.diff.split('\n').filter((l) => l.startsWith('@@')).length, 0))} hunks)`,
          ours: `\`prepareChangeset\` (path resolution inside the workspace, read-ledger check, parse, apply hunks, reviewer diff) then \`applyPreparedFiles\` (per file: base re-check, atomic write: temp file, fsync, rename; ${DEFAULT_APPLY_CONCURRENCY} files at a time, each folder fsync'd once after its renames, temp names journalled first)`,
          reference: durable
            ? `\`git apply change.patch\` as a child process (spawn included) on an identical copy of the folder, then an fsync of every file it wrote (${DEFAULT_APPLY_CONCURRENCY} at a time), so the change is on disk when it returns`
            : '`git apply change.patch` as a child process (spawn included) on an identical copy of the folder; git writes files in place without fsync',
          meaning: durable
            ? `files validated and applied per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means Deputy gets through ${shareInWords(comparison.ratio)} files per second as \`git apply\` made durable. Both sides wait for every file to reach the disk; the rest of the gap is Deputy's atomic write (temp file and rename, so a crash never leaves a half-written file), the read-ledger and base re-checks, and rendering the reviewer's diff.`
            : `files validated and applied per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means Deputy gets through ${shareInWords(comparison.ratio)} files per second as \`git apply\` on the same patch. Much of the gap is work \`git apply\` does not do: an fsync and a rename per file (a crash never leaves a half-written file; the durable row compares with \`git apply\` plus fsync), the read-ledger and base re-checks, and rendering the reviewer's diff.`,
          verified: `after every round each copy holds exactly the ${fmt(fixture.expected.size)} files with, byte for byte, the content the patch describes (checked untimed)`,
          comparison,
        };
      } finally {
        await fs.rm(fixture.dir, { recursive: true, force: true });
      }
    },
  };
}

export const changesetApply = changesetBenchmark(false);
export const changesetApplyDurable = changesetBenchmark(true);
