/**
 * What governing a command costs, on the commands an agent runs most (read-only ones the policy allows):
 *
 * - `command-gate`: ours judges each command (`judgeCommand`: parse the `bash -lc` script, match every segment
 *   against the built-in rules) and then runs it in the sandbox; the reference runs the same command in the same
 *   sandbox without judging it. The ratio is what the gate adds to a command's round trip.
 * - `sandbox-spawn`: ours runs each command through `spawnSandboxed` (bubblewrap: namespaces, mounts, scrubbed
 *   environment, pids cgroup or rlimit); the reference spawns the same `bash -lc` with `child_process.spawn`. The
 *   ratio is what the isolation costs per command.
 *
 * Both need bubblewrap (Debian's `bubblewrap` package); without it they refuse to report.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_COMMAND_RULES, judgeCommand } from '../src/environment/command-policy.js';
import { detectSandbox, spawnSandboxed, type SandboxSupport } from '../src/environment/sandbox.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { compare, type Side } from './measure.js';
import { formatRatio } from './report.js';

/** Read-only commands as the Codex harness sends them, all allowed by the built-in rules. */
const SCRIPTS = ['ls', 'cat notes.txt', "grep -n 'needle' notes.txt | head -n 5", 'wc -l notes.txt && head -n 3 notes.txt'];

interface Workspace {
  dir: string;
  support: SandboxSupport;
}

async function workspace(): Promise<Workspace> {
  const support = await detectSandbox();
  if (support.kind !== 'bwrap') throw new Error(`the sandbox benchmarks need bubblewrap: ${support.reason}`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-bench-gate-'));
  await fs.writeFile(path.join(dir, 'notes.txt'), Array.from({ length: 200 }, (_, i) => `line ${i} ${i % 7 === 0 ? 'needle' : 'hay'}`).join('\n'));
  return { dir, support };
}

/** Runs `argv` in the sandbox and resolves with its stdout; a non-zero exit fails the benchmark. */
function sandboxed(ws: Workspace, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawnSandboxed(
      { argv, cwd: ws.dir, writableRoots: [ws.dir], hiddenPaths: [], env: { PATH: '/usr/bin:/bin' }, network: false, timeoutMs: 30_000, outputCapBytes: 1 << 20, tty: false },
      ws.support,
      { allowUnsandboxed: false },
    );
    let out = '';
    p.onOutput((_s, chunk) => (out += chunk.toString('utf8')));
    p.onExit((exit) => (exit.exitCode === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited ${exit.exitCode}: ${out}`))));
  });
}

function plain(ws: Workspace, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ws.dir, env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

/** Runs `count` commands one after another; each one's output must match what the same command printed unsandboxed. */
async function runAll(count: number, expected: readonly string[], one: (argv: string[]) => Promise<string>): Promise<number> {
  for (let i = 0; i < count; i++) {
    const k = i % SCRIPTS.length;
    const out = await one(['/bin/bash', '-lc', SCRIPTS[k]!]);
    if (out !== expected[k]) throw new Error(`"${SCRIPTS[k]}" printed something else than expected`);
  }
  return count;
}

async function expectations(ws: Workspace): Promise<string[]> {
  return Promise.all(SCRIPTS.map((s) => plain(ws, ['/bin/bash', '-lc', s])));
}

export const commandGate: Benchmark = {
  id: 'command-gate',
  title: 'Allowed command: judge + sandboxed run vs sandboxed run',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = config.commands ?? 100;
    const ws = await workspace();
    try {
      // `ls` lists the same folder inside and outside: the sandbox binds it at the same path.
      const expected = await expectations(ws);
      const ours: Side<Workspace> = {
        label: 'judgeCommand + spawnSandboxed',
        setup: async () => ws,
        run: (w) =>
          runAll(count, expected, (argv) => {
            const verdict = judgeCommand(argv, DEFAULT_COMMAND_RULES);
            if (verdict.decision !== 'allow') throw new Error(`"${argv[2]}" was not allowed: ${verdict.reason}`);
            return sandboxed(w, argv);
          }),
      };
      const reference: Side<Workspace> = { label: 'spawnSandboxed', setup: async () => ws, run: (w) => runAll(count, expected, (argv) => sandboxed(w, argv)) };
      log(`command-gate: ${count} commands per run, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'commands',
        input: `${count} commands one after another, cycling through ${SCRIPTS.map((s) => `\`${s}\``).join(', ')}, each as \`/bin/bash -lc …\` in a folder with a 200-line file`,
        ours: '`judgeCommand(argv, DEFAULT_COMMAND_RULES)` (must be allow), then `spawnSandboxed` and wait for exit',
        reference: '`spawnSandboxed` of the same argv and wait for exit, no judging',
        meaning: `commands per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means judging before running leaves ${shareInWords(comparison.ratio)} commands per second as running alone, so the gate is that small a share of an allowed command's round trip.`,
        verified: 'every command exits 0 and prints exactly what the same command printed unsandboxed; every verdict is allow',
        comparison,
      };
    } finally {
      await fs.rm(ws.dir, { recursive: true, force: true });
    }
  },
};

export const sandboxSpawn: Benchmark = {
  id: 'sandbox-spawn',
  title: 'Command in the bubblewrap sandbox vs plain spawn',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const count = config.commands ?? 100;
    const ws = await workspace();
    try {
      const expected = await expectations(ws);
      const ours: Side<Workspace> = { label: 'spawnSandboxed', setup: async () => ws, run: (w) => runAll(count, expected, (argv) => sandboxed(w, argv)) };
      const reference: Side<Workspace> = { label: 'child_process.spawn', setup: async () => ws, run: (w) => runAll(count, expected, (argv) => plain(w, argv)) };
      log(`sandbox-spawn: ${count} commands per run, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'commands',
        input: `the same ${count} commands as \`command-gate\``,
        ours: '`spawnSandboxed`: bubblewrap with new namespaces (network off), read-only root, private /tmp, hidden home, scrubbed environment, process limit; wait for exit',
        reference: '`child_process.spawn` of the same argv in the same folder; wait for exit',
        meaning: `commands per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means a sandboxed command round trip achieves ${shareInWords(comparison.ratio)} per second as an unsandboxed one: the price of the isolation, paid per command.`,
        verified: 'both sides print exactly the same output for every command and exit 0',
        comparison,
      };
    } finally {
      await fs.rm(ws.dir, { recursive: true, force: true });
    }
  },
};
