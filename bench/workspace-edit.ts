/**
 * Applying an approved 1,000-file changeset through VS Code's `WorkspaceEdit` (issue 9 §5) against the engine's disk
 * apply. Ours is Deputy's own editor apply — `applyWorkspaceEdit` of src/extension/review/apply-edit.ts, what the
 * extension runs when the server sends `deputy/applyWorkspaceEdit` — inside a real VS Code (code-server,
 * ../shared/E2E.md): every file's current text checked against the text the agent read, one `WorkspaceEdit` for the
 * set, every file saved. It runs in a benchmark-only probe extension that bundles that module (bench/workspace-edit/
 * probe.ts) and times the call in the extension host. The reference is the engine's `DiskWorkspaceFiles.apply` (the
 * CLI's port: base re-check, atomic write with fsync, 8 at a time) of the same edits, in this process.
 *
 * Both sides write into folders of the one workspace code-server has open, so VS Code's file watcher sees both.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { DiskWorkspaceFiles, type WorkspaceEdit } from '../src/core/workspace-files.js';
import { Workspace } from '../src/core/workspace.js';
import type { WorkspaceFileEdit } from '../src/protocol/lsp.js';
import { ROOT, launch, packageVsix, waitFor, type VsCode } from '../test/e2e/vscode/code-server.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { checkTreeAndRemove, makeFixture, type Fixture } from './changeset.js';
import { compareFigures, type FigureSide } from './measure.js';
import { formatRatio } from './report.js';
import { JOBS_FOLDER, appliedCount, type ProbeResult } from './workspace-edit/job.js';

const PROBE = path.join(__dirname, 'workspace-edit', 'probe');
const TEST_ONLY = ['--skip-license', '--allow-missing-repository'];
const LABEL = 'Deputy: apply the benchmark changeset';
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

/** Bundles the probe with Deputy's apply module, as the extension's own build does (`vscode` is the host's). */
async function buildProbe(): Promise<void> {
  await build({
    entryPoints: [path.join(__dirname, 'workspace-edit', 'probe.ts')],
    outfile: path.join(PROBE, 'extension.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    logLevel: 'warning',
    external: ['vscode'],
  });
}

/** Every file's guarded edit: the text the agent read (the template's) and the approved text. */
async function editsOf(fixture: Fixture): Promise<WorkspaceEdit[]> {
  return Promise.all(
    [...fixture.expected].map(async ([rel, content]): Promise<WorkspaceEdit> => {
      const before = await fs.readFile(path.join(fixture.template, rel), 'utf8');
      return { path: rel, kind: 'update', expectedSha256: sha(before), before, content };
    }),
  );
}

interface Round {
  root: string;
}

export const workspaceEditApply: Benchmark = {
  id: 'review-apply-vscode',
  title: "Approved changeset applied through VS Code's WorkspaceEdit (code-server) vs the engine's disk apply",
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    log(`${this.id}: making a ${config.files}-file repository (untimed), packaging Deputy and the probe`);
    const fixture = await makeFixture(config.files, config.linesPerFile);
    const edits = await editsOf(fixture);
    const wire: WorkspaceFileEdit[] = edits.map(({ path: p, kind, expectedSha256, content }) => ({ path: p, kind, expectedSha256, content }));
    await buildProbe();
    const ws = mkdtempSync(path.join(tmpdir(), 'deputy-bench-workspace-edit-'));
    let vscode: VsCode | undefined;
    let job = 0;
    const copy = async (name: string): Promise<Round> => {
      const root = path.join(ws, name);
      await fs.cp(fixture.template, root, { recursive: true });
      return { root };
    };
    try {
      vscode = await launch({
        vsix: packageVsix(ROOT),
        extraVsix: [packageVsix(PROBE, TEST_ONLY)],
        workspace: ws,
        settings: { 'workbench.startupEditor': 'none', 'files.autoSave': 'off', 'chat.commandCenter.enabled': false },
      });
      await fs.mkdir(path.join(ws, JOBS_FOLDER), { recursive: true });
      const ours: FigureSide<Round> = {
        label: "applyWorkspaceEdit in VS Code's extension host",
        setup: () => copy(`editor-${job + 1}`),
        measure: async (r) => {
          const n = String(++job).padStart(3, '0');
          const jobs = path.join(ws, JOBS_FOLDER);
          await fs.writeFile(path.join(jobs, `${n}.job.json.tmp`), JSON.stringify({ folderUri: pathToFileURL(r.root).toString(), label: LABEL, edits: wire }));
          await fs.rename(path.join(jobs, `${n}.job.json.tmp`), path.join(jobs, `${n}.job.json`));
          const done = path.join(jobs, `${n}.result.json`);
          await waitFor(async () => existsSync(done), 15 * 60_000, () => `the probe did not answer job ${n}`);
          const result = JSON.parse(await fs.readFile(done, 'utf8')) as ProbeResult;
          log(`${this.id}: job ${n}: ${result.ms.toFixed(0)} ms; ${Object.entries(result.phases ?? {}).map(([k, v]) => `${k} ${v.calls}× ${v.ms.toFixed(0)} ms (from ${v.firstMs.toFixed(0)} to ${v.lastMs.toFixed(0)} ms)`).join(', ')}; ${result.statuses.slice(0, 2).join('; ')} ${result.error ?? ''}`);
          return appliedCount(result, edits.length) / (result.ms / 1000);
        },
        teardown: async (r) => {
          const differ = [];
          for (const [rel, text] of fixture.expected) {
            const now = await fs.readFile(path.join(r.root, rel), 'utf8').catch(() => null);
            if (now !== text) differ.push(`${rel}: ${now === null ? 'missing' : now === (await fs.readFile(path.join(fixture.template, rel), 'utf8')) ? 'unchanged' : `other (${now.length} chars vs ${text.length})`}`);
          }
          if (differ.length) log(`${this.id}: ${differ.length} files differ after the editor apply, first: ${differ.slice(0, 3).join('; ')}`);
          await checkTreeAndRemove(r.root, fixture, 'the editor apply');
        },
      };
      const reference: FigureSide<Round> = {
        label: 'DiskWorkspaceFiles.apply',
        setup: () => copy(`disk-${job + 1}`),
        measure: async (r) => {
          const files = new DiskWorkspaceFiles(await Workspace.open(r.root));
          const start = performance.now();
          const results = await files.apply(LABEL, edits);
          const seconds = (performance.now() - start) / 1000;
          const bad = results.find((x) => x.status !== 'applied');
          if (bad) throw new Error(`the disk apply did not apply ${bad.path}: ${bad.status} ${bad.reason ?? ''}`);
          return results.length / seconds;
        },
        teardown: (r) => checkTreeAndRemove(r.root, fixture, 'the disk apply', true),
      };
      log(`${this.id}: ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compareFigures(ours, reference, config);
      const fmt = (v: number) => v.toLocaleString('en-US');
      return {
        id: this.id,
        title: this.title,
        unit: 'files',
        figure: 'files/s',
        input: `${fmt(config.files)} files × ${fmt(config.linesPerFile)} lines, every file approved (the changeset benchmark's change: every tenth line of every file), a fresh copy per side and round inside the one workspace folder code-server has open`,
        ours: "Deputy's editor apply (`applyWorkspaceEdit`, src/extension/review/apply-edit.ts) in code-server's extension host, timed there: each file's text checked against the one the agent read (the open document's, else the disk's), ONE `WorkspaceEdit` with a full-text replace per file applied as a refactoring (the workbench then saves every file of it), every file then checked on the disk",
        reference: "the engine's disk port, `DiskWorkspaceFiles.apply` (the CLI's): base re-check, atomic write (temp file, fsync, rename), 8 files at a time, each folder fsync'd once",
        meaning: `files applied per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means VS Code applies and saves ${shareInWords(comparison.ratio)} files per second as the engine's disk apply. The editor's side pays for a text model per file, one undo step spanning the set, a save per file and a read-back; the disk side for an fsync per file.`,
        verified: `every round each side answered "applied" for all ${fmt(edits.length)} files and its copy then held exactly those files with, byte for byte, the approved content (checked untimed)`,
        comparison,
      };
    } finally {
      await vscode?.close();
      rmSync(ws, { recursive: true, force: true });
      await fs.rm(fixture.dir, { recursive: true, force: true });
    }
  },
};
