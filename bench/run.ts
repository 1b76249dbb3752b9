/**
 * `npm run bench [-- <id or prefix>...] [--write]`: runs the benchmarks, prints a table, and rewrites
 * BENCHMARKS.md when all of them ran (or `--write` is given). Sizes come from `BENCH_*` environment variables.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { activation } from './activation.js';
import { auditAppend, auditSigned, auditVerify } from './audit.js';
import { machineFacts, type BenchConfig, type Benchmark, type BenchmarkResult } from './benchmark.js';
import { changesetApply, changesetApplyDurable } from './changeset.js';
import { codeLens, codeLensKeystroke } from './code-lens.js';
import { cliStartup } from './cli-startup.js';
import { reviewApply, reviewApplyEditor } from './review-apply.js';
import { environmentCommand, environmentRead, environmentShadow } from './environment.js';
import { commandGate, sandboxSpawn } from './command-gate.js';
import { eventStream } from './events.js';
import { policyDecision } from './policy-decision.js';
import { BenchUsageError, envInt } from './measure.js';
import { runtimeLoad, runtimeLoadBase } from './runtime-load.js';
import { streamMemory } from './stream-memory.js';
import { stopAll } from './stop-all.js';
import { consoleTable, loadText, markdownReport, type LoadFacts } from './report.js';
import { formatBytes, measureSizes } from './sizes.js';
import { ROOT, packageVsix } from '../test/e2e/vscode/code-server.js';
import { webviewStream } from './webview.js';
import { workspaceEditApply } from './workspace-edit.js';

const ALL: readonly Benchmark[] = [
  eventStream, changesetApply, changesetApplyDurable, reviewApply, reviewApplyEditor, workspaceEditApply, auditAppend, auditSigned, auditVerify, cliStartup, webviewStream, activation,
  environmentCommand, environmentRead, environmentShadow, commandGate, sandboxSpawn, runtimeLoad, runtimeLoadBase, streamMemory, policyDecision, codeLens, codeLensKeystroke, stopAll,
];

const USAGE = `Usage: npm run bench [-- <benchmark>... ] [--write]
Benchmarks: ${ALL.map((b) => b.id).join(', ')} (a prefix selects several: "audit").
Without names all run and BENCHMARKS.md is rewritten; with names only the table is printed unless --write is given.
--out FILE writes the report of the benchmarks run to FILE instead of BENCHMARKS.md (to merge a partial run by hand).
Sizes: BENCH_WARMUP, BENCH_ROUNDS, BENCH_EVENTS, BENCH_FILES, BENCH_LINES_PER_FILE, BENCH_AUDIT_APPENDS, BENCH_AUDIT_RECORDS,
BENCH_CLI_STARTS, BENCH_WEBVIEW_EVENTS, BENCH_ENV_COMMANDS, BENCH_ENV_READS, BENCH_SHADOW_FILES, BENCH_COMMANDS,
BENCH_LOAD_SESSIONS, BENCH_LOAD_TURNS, BENCH_LOAD_WORDS, BENCH_LOAD_WARMUP, BENCH_LOAD_ROUNDS, BENCH_STREAM_TURNS, BENCH_LENS_LINES, BENCH_LENS_PASSES, BENCH_LENS_KEYSTROKES, BENCH_STOP_SESSIONS; BENCH_TMPFS (a tmpfs folder), BENCH_RUNTIME and BENCH_RUNTIME_BASE (a commit or checkout to measure).`;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  return {
    warmup: envInt('BENCH_WARMUP', 1, 0, env),
    rounds: envInt('BENCH_ROUNDS', 5, 1, env),
    events: envInt('BENCH_EVENTS', 5000, 1, env),
    files: envInt('BENCH_FILES', 1000, 1, env),
    linesPerFile: envInt('BENCH_LINES_PER_FILE', 100, 10, env),
    auditAppends: envInt('BENCH_AUDIT_APPENDS', 500, 1, env),
    auditRecords: envInt('BENCH_AUDIT_RECORDS', 20000, 1, env),
    commands: envInt('BENCH_COMMANDS', 100, 1, env),
    cliStarts: envInt('BENCH_CLI_STARTS', 20, 1, env),
  };
}

/** The benchmarks named on the command line (exact id or prefix), in their usual order; all when none is named. */
export function selectBenchmarks(names: readonly string[], all: readonly Benchmark[] = ALL): Benchmark[] {
  if (names.length === 0) return [...all];
  for (const name of names) {
    if (!all.some((b) => b.id === name || b.id.startsWith(name))) {
      throw new BenchUsageError(`No benchmark is called "${name}". Choose from: ${all.map((b) => b.id).join(', ')}.`);
    }
  }
  return all.filter((b) => names.some((name) => b.id === name || b.id.startsWith(name)));
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : undefined;
  if (outAt >= 0 && (out === undefined || out.startsWith('-'))) throw new BenchUsageError(`--out needs a file.\n${USAGE}`);
  const rest = argv.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
  const unknownFlag = rest.find((a) => a.startsWith('-') && a !== '--write');
  if (unknownFlag) throw new BenchUsageError(`Unknown option ${unknownFlag}.\n${USAGE}`);
  const names = rest.filter((a) => !a.startsWith('-'));
  const write = names.length === 0 || argv.includes('--write') || out !== undefined;
  const selected = selectBenchmarks(names);
  const config = configFromEnv();
  const machine = machineFacts();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`Node ${machine.node} on ${machine.cpu} (${machine.cores} cores)`);

  const started = performance.now();
  // How loaded the machine is while it measures (other work shares it): sampled through the run, for the report.
  const load: LoadFacts = { samples: [os.loadavg()[0] ?? 0] };
  const sampler = setInterval(() => load.samples.push(os.loadavg()[0] ?? 0), 10_000);
  sampler.unref();
  const results: BenchmarkResult[] = [];
  try {
    for (const benchmark of selected) {
      const t0 = performance.now();
      results.push(await benchmark.run(config, log));
      log(`${benchmark.id}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    clearInterval(sampler);
  }
  // Sizes of what ships, with the report (packaging the .vsix takes a few seconds).
  const sizes = write ? await measureSizes(packageVsix(ROOT)) : undefined;
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${consoleTable(results)}\n\nratio = ours ÷ reference throughput (1.00× = as fast; 0.50× = half as many per second)\n`);
  for (const s of sizes ?? []) process.stdout.write(`${s.artifact}: ${formatBytes(s.bytes)}${s.goalBytes === null ? '' : ` (goal < ${formatBytes(s.goalBytes)})`}\n`);
  process.stdout.write(`${loadText(load, machine.cores)}\n`);

  if (write) {
    const file = out !== undefined ? path.resolve(out) : path.resolve(__dirname, '..', 'BENCHMARKS.md');
    const command = ['npm run bench', ...(rest.length > 0 ? ['--', ...rest] : [])].join(' ');
    await fs.writeFile(file, markdownReport(results, { date: new Date(), command, machine, config, seconds, load, ...(sizes ? { sizes } : {}) }));
    log(`wrote ${file}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const text = err instanceof BenchUsageError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`bench: ${text}\n`);
    process.exitCode = 1;
  });
}
