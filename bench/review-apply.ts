/**
 * Applying an approved 1,000-file changeset (issue 9 §1, issue 6 "apply files in parallel"): the review model's apply
 * — the whole set decided in one question, then written together through the workspace file-system port, pre-images
 * kept — against the engine's apply before it: each file written right after its own review, one at a time
 * (`applyPreparedFile` per file, with the same audit records). Two rows: the port's disk implementation (the CLI),
 * and the editor's implementation over a real JSON-RPC connection to a stand-in for the extension that checks each
 * file's guard and writes it (what the extension's WorkspaceEdit + save does, without VS Code).
 *
 * The fixture is the changeset benchmark's (a `git diff` changing every tenth line of every file). Each round gets a
 * fresh copy and the changeset prepared for it (untimed); the timed part starts at the person's answer.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { AuditLog } from '../src/core/audit.js';
import { applyPreparedFile, prepareChangeset, type PreparedFile } from '../src/core/changeset/index.js';
import { Policy } from '../src/core/policy.js';
import type { Prompter } from '../src/core/prompter.js';
import { fileReviewBinding, ToolRunner } from '../src/core/tool-runner.js';
import { DiskWorkspaceFiles, type WorkspaceFiles } from '../src/core/workspace-files.js';
import { Workspace } from '../src/core/workspace.js';
import { ApplyWorkspaceEdit, ReadWorkspaceFiles } from '../src/protocol/lsp.js';
import { EditorWorkspaceFiles } from '../src/server/editor-files.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { checkTreeAndRemove, freshCopy, makeFixture, type Fixture } from './changeset.js';
import { compare, type Side } from './measure.js';
import { formatRatio } from './report.js';

const APPROVE_ALL: Prompter = {
  askPermission: async (q) => ({ binding: q.binding, allow: false }),
  reviewFile: async (q) => ({ binding: q.binding, verdict: 'approve' }),
  reviewChangeset: async (q) => ({ decisions: q.items.map((i) => ({ binding: i.binding, decision: 'approve' as const })) }),
};
const ACTOR = { principal: 'bench' };
/**
 * Both sides write the same audit records (an fsync'd append each); on a shared disk those appends dwarf the writes
 * being compared, so both sides append to a trail that keeps nothing.
 */
const NO_AUDIT = { append: async () => undefined, close: async () => undefined } as unknown as AuditLog;

interface Round {
  root: string;
  audit: AuditLog;
  workspace: Workspace;
  prepared: PreparedFile[];
  editor?: { server: MessageConnection; client: MessageConnection };
}

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

/** The extension's side of the port, as a stand-in: reads the disk, checks every guard, then writes every file. */
function standInEditor(): { server: MessageConnection; client: MessageConnection } {
  const up = new PassThrough();
  const down = new PassThrough();
  const server = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  const client = createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  const read = (root: string, p: string) => fs.readFile(path.join(root, p), 'utf8').catch(() => null);
  client.onRequest(ReadWorkspaceFiles.type, async (p) => {
    const root = p.folderUri;
    return { files: await Promise.all(p.paths.map(async (rel) => ({ path: rel, ...((c) => ({ content: c, sha256: c === null ? null : sha(c) }))(await read(root, rel)), dirty: false }))) };
  });
  client.onRequest(ApplyWorkspaceEdit.type, async (p) => {
    const root = p.folderUri;
    const now = await Promise.all(p.edits.map((e) => read(root, e.path)));
    const clash = p.edits.map((e, i) => (now[i] === null ? null : sha(now[i]!)) !== e.expectedSha256);
    if (clash.some(Boolean)) return { results: p.edits.map((e, i) => ({ path: e.path, status: clash[i] ? ('conflict' as const) : ('failed' as const) })) };
    await Promise.all(p.edits.map((e) => (e.content === null ? fs.rm(path.join(root, e.path)) : fs.writeFile(path.join(root, e.path), e.content))));
    return { results: p.edits.map((e) => ({ path: e.path, status: 'applied' as const })) };
  });
  server.listen();
  client.listen();
  return { server, client };
}

async function prepareRound(fixture: Fixture, editor: boolean): Promise<Round> {
  const root = await freshCopy(fixture);
  const workspace = await Workspace.open(root);
  const prepared = await prepareChangeset(workspace, { summary: 'Revise every tenth value', changes: fixture.changes }, fixture.ledger, {
    maxFiles: fixture.changes.length,
    maxTotalBytes: Number.MAX_SAFE_INTEGER,
  });
  if (prepared.some((f) => f.status !== 'ready')) throw new Error('prepareChangeset refused a file of the benchmark changeset.');
  return { root, audit: NO_AUDIT, workspace, prepared, ...(editor ? { editor: standInEditor() } : {}) };
}

async function endRound(r: Round, fixture: Fixture, who: string): Promise<void> {
  r.editor?.server.dispose();
  r.editor?.client.dispose();
  await checkTreeAndRemove(r.root, fixture, who, true);
}

function reviewApplyBenchmark(editor: boolean): Benchmark {
  return {
    id: editor ? 'review-apply-editor' : 'review-apply',
    title: editor
      ? 'Approved changeset applied through the editor port (JSON-RPC, stand-in extension) vs per-file disk apply'
      : 'Approved changeset applied as one set through the disk port vs per-file disk apply',
    async run(config: BenchConfig, log): Promise<BenchmarkResult> {
      log(`${this.id}: making a ${config.files}-file repository and its patch (untimed)`);
      const fixture = await makeFixture(config.files, config.linesPerFile);
      try {
        const ours: Side<Round> = {
          label: editor ? 'review model → EditorWorkspaceFiles' : 'review model → DiskWorkspaceFiles',
          setup: () => prepareRound(fixture, editor),
          run: async (r) => {
            const files: WorkspaceFiles = r.editor ? new EditorWorkspaceFiles(r.editor.server, r.root) : new DiskWorkspaceFiles(r.workspace);
            const runner = new ToolRunner({ workspace: r.workspace, policy: Policy.defaults(), audit: r.audit, prompter: APPROVE_ALL, actor: ACTOR, task: 'bench', files });
            const out = await runner.reviewPrepared({ session: 's', callId: 'c' }, 'bench', r.prepared);
            const bad = out.results.find((x) => x.status !== 'applied');
            if (bad) throw new Error(`the review model did not apply ${bad.path}: ${bad.status}: ${bad.reason}`);
            return out.results.length;
          },
          teardown: (r) => endRound(r, fixture, 'the review model'),
        };
        const reference: Side<Round> = {
          label: 'per-file review → applyPreparedFile',
          setup: () => prepareRound(fixture, false),
          run: async (r) => {
            // What the engine did before: each file's binding, verdict record, write and applied record, in turn.
            for (const file of r.prepared) {
              fileReviewBinding('s', 'c', file);
              await r.audit.append({ type: 'changeset.approved', session: 's', task: 'bench', actor: ACTOR, data: { call_id: 'c', path: file.path, approver: 'bench' } });
              const result = await applyPreparedFile(r.workspace, file);
              if (result.status !== 'applied') throw new Error(`applyPreparedFile did not apply ${file.path}`);
              await r.audit.append({ type: 'changeset.applied', session: 's', task: 'bench', actor: ACTOR, data: { call_id: 'c', path: file.path, operation: file.operation, approver: 'bench', before_sha256: file.baseSha256, added: file.stats.added, removed: file.stats.removed } });
            }
            return r.prepared.length;
          },
          teardown: (r) => endRound(r, fixture, 'the per-file apply'),
        };
        log(`${this.id}: ${config.warmup} warm-up + ${config.rounds} timed rounds`);
        const comparison = await compare(ours, reference, config);
        const fmt = (n: number) => n.toLocaleString('en-US');
        return {
          id: this.id,
          title: this.title,
          unit: 'files',
          input: `${fmt(config.files)} files × ${fmt(config.linesPerFile)} lines, every file approved; the changeset benchmark's patch (every tenth line of every file), prepared untimed`,
          ours: editor
            ? '`ToolRunner.reviewPrepared` from the answer on: decisions checked, hunks listed, the approved set sent as ONE `deputy/applyWorkspaceEdit` over a vscode-jsonrpc connection (in-process streams: real framing and JSON of every file\'s content) to a stand-in extension that checks every guard and writes every file (plain write, as a save does), pre-images kept under `.deputy/` (audit records to a trail that keeps nothing, on both sides)'
            : '`ToolRunner.reviewPrepared` from the answer on: decisions checked, hunks listed, the approved set written together through `DiskWorkspaceFiles` (`applyPreparedFiles`: base re-check, atomic write with fsync, 8 at a time, each folder fsync\'d once), pre-images kept under `.deputy/` (audit records to a trail that keeps nothing, on both sides)',
          reference: "the engine's apply before the review model: per file in turn, its binding, the approved record, `applyPreparedFile` (the same atomic, fsync'd write, one file at a time, its folder fsync'd each time), the applied record",
          meaning: `files applied per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means the review model applies ${shareInWords(comparison.ratio)} files per second as the per-file apply.${editor ? ' The stand-in does not fsync, as an editor save need not; VS Code\'s own WorkspaceEdit cost is not in this row.' : ''}`,
          verified: `after every round each copy holds exactly the ${fmt(fixture.expected.size)} files with, byte for byte, the content the patch describes, besides Deputy's own \`.deputy/\` state (checked untimed)`,
          comparison,
        };
      } finally {
        await fs.rm(fixture.dir, { recursive: true, force: true });
      }
    },
  };
}

export const reviewApply = reviewApplyBenchmark(false);
export const reviewApplyEditor = reviewApplyBenchmark(true);
