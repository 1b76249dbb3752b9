/**
 * A Deputy runtime in a process of its own, built from a chosen source tree: this one, another worktree, or any
 * commit. The load and memory benchmarks drive it from the parent over loopback, so the runtime's event loop and
 * memory are its own (as in `deputy serve`), and two versions of the runtime can be measured side by side on the
 * same machine in one run.
 *
 * Run as a script (`node --import tsx bench/runtime-process.ts <json>`), it starts the runtime from the
 * `src/` folder named in the JSON, prints `{url, token}` on one line, answers `rss` on stdin with its resident
 * memory, and closes the runtime on stdin's end or SIGTERM.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const REPO = path.resolve(__dirname, '..');

/** What the child needs: where the runtime's source is, its data dir, and the upstream model. */
interface ChildConfig {
  srcDir: string;
  dataDir: string;
  modelBaseURL: string;
  /** Extra `RuntimeOptions` (only those the chosen version knows). */
  options?: Record<string, unknown>;
}

export interface RuntimeSource {
  /** For the report: "this tree", "commit 058f6c5", "/work/wt/other". */
  label: string;
  srcDir: string;
  /** Removes what `runtimeSource` extracted, if anything. */
  dispose(): Promise<void>;
}

/**
 * Resolves a source for the runtime: '' is this tree; a folder is a checkout (its `src/`); anything else is a git
 * revision of this repository, extracted with `git archive` into a temp folder that borrows this tree's
 * `node_modules` (the runtime's dependencies are the same across the commits we compare).
 */
export async function runtimeSource(spec: string): Promise<RuntimeSource> {
  if (spec === '') return { label: 'this tree', srcDir: path.join(REPO, 'src'), dispose: async () => undefined };
  const asDir = path.resolve(spec);
  if (existsSync(path.join(asDir, 'src', 'runtime', 'index.ts'))) {
    return { label: asDir, srcDir: path.join(asDir, 'src'), dispose: async () => undefined };
  }
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', '--verify', '--quiet', `${spec}^{commit}`], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`"${spec}" is neither a folder holding src/runtime/index.ts nor a commit of ${REPO}.`);
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `deputy-bench-src-${commit.slice(0, 8)}-`));
  const tar = execFileSync('git', ['archive', '--format=tar', commit, 'src'], { cwd: REPO, maxBuffer: 256 * 2 ** 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  await fs.symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return {
    label: `commit ${commit.slice(0, 10)}`,
    srcDir: path.join(dir, 'src'),
    dispose: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

export interface RuntimeProcess {
  url: string;
  token: string;
  pid: number;
  /** The child's resident set size now, in bytes. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRuntimeProcess(config: ChildConfig): Promise<RuntimeProcess> {
  // BENCH_RUNTIME_PROFILE=<dir>: a V8 CPU profile of each runtime process, to see where its time goes.
  const profile = process.env.BENCH_RUNTIME_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_RUNTIME_PROFILE}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', __filename, JSON.stringify(config)], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else early.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const queued = early.shift();
      if (queued !== undefined) return resolve(queued);
      waiting.push(resolve);
      void exited.then((code) => reject(new Error(`The runtime process exited (${code}) early:\n${stderr}`)));
    });
  const hello = JSON.parse(await nextLine()) as { url: string; token: string };
  return {
    url: hello.url,
    token: hello.token,
    pid: child.pid!,
    async rss() {
      child.stdin!.write('rss\n');
      return Number(await nextLine());
    },
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`The runtime process exited ${code}:\n${stderr}`);
    },
  };
}

async function childMain(config: ChildConfig): Promise<void> {
  const runtimeModule = (await import(path.join(config.srcDir, 'runtime', 'index.ts'))) as typeof import('../src/runtime/index.js');
  const runtime = await runtimeModule.startRuntime({
    dataDir: config.dataDir,
    // The upstream client's default retries, as in `deputy serve`: a stalled runtime meets dropped keep-alive sockets.
    upstream: { baseURL: config.modelBaseURL, model: 'scripted', api: 'responses' },
    ...config.options,
  });
  process.stdout.write(`${JSON.stringify({ url: runtime.url, token: runtime.token })}\n`);
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'rss') process.stdout.write(`${process.memoryUsage().rss}\n`);
  });
  const stop = () => {
    void runtime.close().then(() => process.exit(0));
  };
  input.on('close', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  childMain(JSON.parse(process.argv[2]!) as ChildConfig).catch((err: unknown) => {
    process.stderr.write(`runtime process: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
