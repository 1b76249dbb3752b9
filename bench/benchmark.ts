/** What every benchmark is and returns, so `run.ts` can run them by name and `report.ts` can render any of them. */
import os from 'node:os';
import type { Comparison } from './measure.js';

/** Sizes and round counts, from the environment (`BENCH_*`), shared by every benchmark. */
export interface BenchConfig {
  warmup: number;
  rounds: number;
  /** Output text deltas the scripted model streams into the session (one runtime event each). */
  events: number;
  files: number;
  linesPerFile: number;
  /** Records appended per timed append run. */
  auditAppends: number;
  /** Records in the chain that verify reads. */
  auditRecords: number;
  /** Commands run one after another by the command gate and sandbox benchmarks (100 when absent). */
  commands?: number;
  /** Process starts per side and round of the CLI start-up benchmark (`BENCH_CLI_STARTS`, 20 when absent). */
  cliStarts?: number;
}

/** One benchmark's figures and the words needed to read them. */
export interface BenchmarkResult {
  id: string;
  title: string;
  /** What one unit is, plural: "events", "files", "records". */
  unit: string;
  /**
   * How a side's figure is written when it is not throughput (`compareFigures`): "ms at p99", "MiB". Absent, the
   * figure is `<unit>/s`.
   */
  figure?: string;
  /** The input, in numbers: "6,012 events in one session (3 turns)". */
  input: string;
  /** What is timed on our side and on the reference side. */
  ours: string;
  reference: string;
  /** How to read the ratio, in one or two sentences. */
  meaning: string;
  /** The check that both sides did the same work ("both saw 6,012 events, same last event id"). */
  verified: string;
  comparison: Comparison;
  /** More rows from the same run, reported right after this one (the `events.create` p99 of the same load). */
  rows?: BenchmarkResult[];
}

/** Every row of these results, each benchmark's own rows right after it. */
export function allRows(results: readonly BenchmarkResult[]): BenchmarkResult[] {
  return results.flatMap((r) => [r, ...allRows(r.rows ?? [])]);
}

export interface Benchmark {
  id: string;
  title: string;
  run(config: BenchConfig, log: (line: string) => void): Promise<BenchmarkResult>;
}

export interface MachineFacts {
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  memoryGiB: number;
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** A ratio in words for the reports: 0.89 → "89% as many", 0.04 → "4% as many (1 for every 25)", 1.3 → "1.3 times as many". */
export function shareInWords(ratio: number): string {
  if (ratio >= 1.05) return `${ratio.toFixed(1)} times as many`;
  const percent = Math.round(ratio * 100);
  if (ratio >= 0.95) return 'as many';
  if (ratio < 0.01) return `under 1% as many (about 1 for every ${Math.round(1 / ratio)})`;
  return percent < 20 ? `${percent}% as many (about 1 for every ${Math.round(1 / ratio)})` : `${percent}% as many`;
}
