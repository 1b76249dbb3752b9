/**
 * Deputy's execution environment against the real `codex exec-server` (0.171.0, the same binary the tests use) on the
 * same machine, and the shadow workspace against `git worktree add`:
 * - `environment-command`: command round trips (`process/start` of an allowed command until `process/closed`);
 * - `environment-read`: `fs/readFile` of a 256 KiB file, repeated;
 * - `environment-shadow`: making the shadow of a 10,000-file repository with uncommitted changes.
 * Both sides get identical input and are checked to have done the same work. Sizes: BENCH_ENV_COMMANDS,
 * BENCH_ENV_READS, BENCH_SHADOW_FILES.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Shadow } from '../src/environment/shadow.js';
import { startCodexExecServer } from '../test/fixtures/codex.js';
import { ExecClient } from '../test/helpers/exec-client.js';
import { startTestEnvironment } from '../test/helpers/environment.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { compare, envInt, type Side } from './measure.js';
import { formatRatio } from './report.js';

const exec = promisify(execFile);
const fmt = (n: number) => n.toLocaleString('en-US');
const READ_BYTES = 256 * 1024;

async function makeWorkspace(): Promise<{ dir: string; deputyRoot: string; codexRoot: string; cleanup(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-bench-env-'));
  const deputyRoot = path.join(dir, 'deputy');
  const codexRoot = path.join(dir, 'codex');
  for (const root of [deputyRoot, codexRoot]) {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'data.bin'), Buffer.alloc(READ_BYTES, 7));
  }
  await exec('git', ['init', '-q'], { cwd: deputyRoot });
  return { dir, deputyRoot, codexRoot, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Runs `count` commands one after another, each to `process/closed`; returns how many exited 0 with "ok". */
async function commandRoundTrips(client: ExecClient, root: string, count: number, tag: string): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const processId = `${tag}-${i}`;
    const reply = await client.call('process/start', { processId, argv: ['echo', 'ok'], cwd: pathToFileURL(root).href, env: { PATH: '/usr/bin:/bin' }, tty: false, arg0: null });
    if (reply.error) throw new Error(`process/start failed: ${reply.error.message}`);
    const exited = await client.waitFor((n) => n.method === 'process/exited' && n.params.processId === processId);
    await client.waitFor((n) => n.method === 'process/closed' && n.params.processId === processId);
    const out = client.notifications.filter((n) => n.method === 'process/output' && n.params.processId === processId);
    if (exited.params.exitCode === 0 && Buffer.concat(out.map((n) => Buffer.from(n.params.chunk, 'base64'))).toString() === 'ok\n') ok++;
  }
  client.notifications.length = 0;
  return ok;
}

async function reads(client: ExecClient, root: string, count: number): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const reply = await client.call('fs/readFile', { path: pathToFileURL(path.join(root, 'data.bin')).href });
    if (reply.error) throw new Error(`fs/readFile failed: ${reply.error.message}`);
    bytes += Buffer.from(reply.result.dataBase64, 'base64').length;
  }
  if (bytes !== count * READ_BYTES) throw new Error(`read ${bytes} bytes, expected ${count * READ_BYTES}`);
  return count;
}

async function connected(url: string): Promise<ExecClient> {
  const client = await ExecClient.connect(url);
  await client.handshake();
  return client;
}

export const environmentCommand: Benchmark = {
  id: 'environment-command',
  title: 'Command round trip: Deputy environment vs codex exec-server',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = envInt('BENCH_ENV_COMMANDS', 20);
    const ws = await makeWorkspace();
    const codex = await startCodexExecServer(ws.codexRoot);
    const deputy = await startTestEnvironment(ws.deputyRoot);
    try {
      let round = 0;
      const ours: Side<ExecClient> = { label: 'Deputy environment', setup: () => connected(deputy.url), run: (c) => commandRoundTrips(c, ws.deputyRoot, count, `d${round++}`), teardown: (c) => c.close() };
      const reference: Side<ExecClient> = { label: 'codex exec-server', setup: () => connected(codex.url), run: (c) => commandRoundTrips(c, ws.codexRoot, count, `c${round++}`), teardown: (c) => c.close() };
      log(`environment-command: ${count} commands per round, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'commands',
        input: `${fmt(count)} sequential \`echo ok\` commands per round over one websocket connection`,
        ours: '`process/start` judged by the command policy (allowed by the built-in read-only rule), run in the bubblewrap sandbox (shadow writable, real workspace and home hidden, no network, scrubbed environment), streamed back, and audited (call, decision, result with output hash: three hash-chained, fsynced records)',
        reference: 'the same requests to `codex exec-server --listen ws://127.0.0.1:0` 0.171.0, which runs the command directly (sandbox `none`) and writes no audit trail',
        meaning: `commands completed per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means ${shareInWords(comparison.ratio)} round trips per second. The gap is the gate: a sandbox per command (bubblewrap sets up namespaces and mounts) and the audit records.`,
        verified: 'every command on both sides exited 0 having printed exactly `ok\\n`, and both finished the same number',
        comparison,
      };
    } finally {
      await deputy.close();
      await codex.stop();
      await ws.cleanup();
    }
  },
};

export const environmentRead: Benchmark = {
  id: 'environment-read',
  title: 'fs/readFile: Deputy environment vs codex exec-server',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = envInt('BENCH_ENV_READS', 100);
    const ws = await makeWorkspace();
    const codex = await startCodexExecServer(ws.codexRoot);
    const deputy = await startTestEnvironment(ws.deputyRoot);
    try {
      const ours: Side<ExecClient> = { label: 'Deputy environment', setup: () => connected(deputy.url), run: (c) => reads(c, ws.deputyRoot, count), teardown: (c) => c.close() };
      const reference: Side<ExecClient> = { label: 'codex exec-server', setup: () => connected(codex.url), run: (c) => reads(c, ws.codexRoot, count), teardown: (c) => c.close() };
      log(`environment-read: ${count} reads of ${READ_BYTES / 1024} KiB per round`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'reads',
        input: `${fmt(count)} sequential \`fs/readFile\` calls per round of one ${READ_BYTES / 1024} KiB file`,
        ours: 'URI mapped into the shadow and resolved component by component (symlinks checked), read policy, the read, and two audit records (call and result, hash-chained and fsynced)',
        reference: 'the same requests to `codex exec-server` 0.171.0: the read alone',
        meaning: `reads per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means ${shareInWords(comparison.ratio)} reads per second; most of the difference is the two fsynced audit records every read leaves.`,
        verified: `both sides returned exactly ${fmt(count * READ_BYTES)} bytes per round`,
        comparison,
      };
    } finally {
      await deputy.close();
      await codex.stop();
      await ws.cleanup();
    }
  },
};

export const environmentShadow: Benchmark = {
  id: 'environment-shadow',
  title: 'Shadow workspace vs git worktree add (10,000 files)',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const files = envInt('BENCH_SHADOW_FILES', 10_000);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-bench-shadow-'));
    const repo = path.join(dir, 'repo');
    log(`environment-shadow: making a ${fmt(files)}-file repository (untimed)`);
    for (let f = 0; f < files; f++) {
      const abs = path.join(repo, `src/m${Math.floor(f / 100)}/f${f}.ts`);
      if (f % 100 === 0) await fs.mkdir(path.dirname(abs), { recursive: true });
      await fs.writeFile(abs, `export const v${f} = ${f};\n`);
    }
    const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' };
    await exec('git', ['init', '-q'], { cwd: repo });
    await exec('git', ['add', '-A'], { cwd: repo, env });
    await exec('git', ['commit', '-qm', 'base'], { cwd: repo, env });
    // A few uncommitted changes: the shadow carries them, the worktree (of HEAD) does not need to.
    await fs.writeFile(path.join(repo, 'src/m0/f0.ts'), 'export const v0 = "changed";\n');
    await fs.writeFile(path.join(repo, 'untracked.ts'), 'export const u = 1;\n');
    const count = async (root: string) => Number((await exec('sh', ['-c', 'find . -path ./.git -prune -o -type f -print | wc -l'], { cwd: root })).stdout.trim());
    try {
      let n = 0;
      const ours: Side<{ shadow?: Shadow }> = {
        label: 'Shadow.create',
        setup: async () => ({}),
        run: async (box) => {
          box.shadow = await Shadow.create(repo, { baseDir: path.join(dir, 'shadows') });
          return count(box.shadow.root).then((c) => (c === files + 1 ? files : -1));
        },
        teardown: async (box) => box.shadow?.dispose(),
      };
      const reference: Side<string> = {
        label: 'git worktree add --detach',
        setup: async () => path.join(dir, `wt-${n++}`),
        run: async (target) => {
          await exec('git', ['worktree', 'add', '-q', '--detach', target, 'HEAD'], { cwd: repo });
          return count(target).then((c) => (c === files ? files : -1));
        },
        teardown: async (target) => {
          await exec('git', ['worktree', 'remove', '--force', target], { cwd: repo });
        },
      };
      log(`environment-shadow: ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'files',
        input: `a git repository of ${fmt(files)} committed files, one of them modified and one untracked file beside them`,
        ours: '`Shadow.create`: `git add -A` into a copy of the real index (only changed files hashed, into Deputy\'s own object store), `write-tree`, `read-tree` + `checkout-index` into a folder Deputy owns (the timed run includes counting the files, as the reference\'s does)',
        reference: '`git worktree add --detach <dir> HEAD`, the cheapest checkout git offers (of the commit only: no uncommitted or untracked changes)',
        meaning: `files shadowed per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means ${shareInWords(comparison.ratio)} files per second; ours also snapshots uncommitted and untracked changes without touching the real index or object store.`,
        verified: `the shadow holds the ${fmt(files)} files plus the untracked one, the worktree the ${fmt(files)} committed files, every round`,
        comparison,
      };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  },
};
