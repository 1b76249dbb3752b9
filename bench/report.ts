/** Renders benchmark results: a table for the terminal and the whole of `BENCHMARKS.md`. */
import { allRows, type BenchConfig, type BenchmarkResult, type MachineFacts } from './benchmark.js';
import { sizesTable, type SizeRow } from './sizes.js';
import type { Comparison } from './measure.js';

export function formatRate(perSecond: number): string {
  if (perSecond >= 100) return Math.round(perSecond).toLocaleString('en-US');
  if (perSecond >= 10) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}

export function formatRatio(ratio: number): string {
  // Two significant digits below 0.01: "0.00×" would say nothing about a side hundreds of times slower.
  if (ratio > 0 && ratio < 0.01) return `${ratio.toPrecision(2)}×`;
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/** The spread of the per-round ratios: "0.18–0.25×". */
export function formatRatioRange(c: Comparison): string {
  return `${formatRatio(c.ratioMin).slice(0, -1)}–${formatRatio(c.ratioMax)}`;
}

/** How one side's figure is written: the result's own `figure` ("ms p99", "MiB") or, for throughput, "<unit>/s". */
export function figureUnit(r: BenchmarkResult): string {
  return r.figure ?? `${r.unit}/s`;
}

function pad(cells: string[][]): string[] {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

/** The terminal summary: one row per benchmark, each side's median figure, the median ratio and its range. */
export function consoleTable(results: readonly BenchmarkResult[]): string {
  const rows = [
    ['benchmark', 'ours', 'reference', 'ratio', 'min–max', 'figure'],
    ...allRows(results).map((r) => [
      r.id,
      formatRate(r.comparison.ours.median),
      formatRate(r.comparison.reference.median),
      formatRatio(r.comparison.ratio),
      formatRatioRange(r.comparison),
      figureUnit(r),
    ]),
  ];
  const lines = pad(rows);
  return [lines[0]!, '-'.repeat(lines[0]!.length), ...lines.slice(1)].join('\n');
}

export interface ReportContext {
  date: Date;
  command: string;
  machine: MachineFacts;
  config: BenchConfig;
  /** How long the whole run took, for whoever wants to re-run it. */
  seconds: number;
  /** How busy the machine was during the run: the 1-minute load average, sampled through it. */
  load?: LoadFacts;
  /** The shipped artifacts' sizes (`bench/sizes.ts`). */
  sizes?: readonly SizeRow[];
}

export interface LoadFacts {
  samples: number[];
}

/** "load average 3.1 (min 0.5, max 9.8) on 2 cores, 40 samples": how loaded the machine was while it measured. */
export function loadText(load: LoadFacts, cores: number): string {
  const s = [...load.samples].sort((a, b) => a - b);
  const mid = s[Math.floor(s.length / 2)] ?? 0;
  const f = (v: number) => v.toFixed(1);
  return (
    `The machine's 1-minute load average during the run: median ${f(mid)}, min ${f(s[0] ?? 0)}, max ${f(s.at(-1) ?? 0)} ` +
    `on ${cores} cores (${s.length} samples${mid > cores ? '; more runnable work than cores, so the machine was shared and absolute figures are low' : ''}).`
  );
}

function summaryTable(results: readonly BenchmarkResult[]): string[] {
  return [
    '| Benchmark | Ours (median) | Reference (median) | Ratio ours/reference (median of rounds) | Min–max of rounds |',
    '|---|---:|---:|---:|---:|',
    ...allRows(results).map(
      (r) =>
        `| ${r.title} | ${formatRate(r.comparison.ours.median)} ${figureUnit(r)} | ${formatRate(r.comparison.reference.median)} ${figureUnit(r)} | **${formatRatio(r.comparison.ratio)}** | ${formatRatioRange(r.comparison)} |`,
    ),
  ];
}

function section(r: BenchmarkResult): string[] {
  const samples = (xs: number[]) => xs.map(formatRate).join(', ');
  return [
    `### ${r.title} (\`${r.id}\`)`,
    '',
    `- **Input:** ${r.input}.`,
    `- **Ours:** ${r.ours}.`,
    `- **Reference:** ${r.reference}.`,
    `- **Same work:** ${r.verified}.`,
    `- **Ratio:** ${r.meaning}`,
    `- Rounds (${figureUnit(r)}, in run order): ours ${samples(r.comparison.ours.samples)}; reference ${samples(r.comparison.reference.samples)}; ratio ${r.comparison.ratios.map(formatRatio).join(', ')}.`,
    '',
  ];
}

/** The whole of BENCHMARKS.md for these results. */
export function markdownReport(results: readonly BenchmarkResult[], ctx: ReportContext): string {
  const m = ctx.machine;
  const c = ctx.config;
  return [
    '# Benchmarks',
    '',
    `Measured ${ctx.date.toISOString().slice(0, 10)} with \`${ctx.command}\` (took ${Math.round(ctx.seconds)} s).`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}.`,
    '',
    ...(ctx.load ? [loadText(ctx.load, m.cores), ''] : []),
    '## How to read these figures',
    '',
    'Every benchmark runs Deputy\'s code ("ours") and a reference that does the same job on identical input, side by',
    'side in the same process and run, so both meet the same machine, disk and load.',
    `There are ${c.warmup} untimed warm-up round(s), then ${c.rounds} timed rounds. A round runs ours and the reference back to`,
    'back (alternating which goes first) and gives one ratio, ours ÷ reference. The **ratio** reported is the median',
    'of those per-round ratios, with the lowest and highest round beside it: a burst of load on the machine hits both',
    'sides of the same round, so it cancels out of that round\'s ratio instead of skewing one side\'s median. The',
    'per-side medians are shown for context only. Inputs are made fresh (untimed) for every run, and after every run',
    'a check confirms both sides did the same work; a benchmark whose sides disagree fails instead of reporting.',
    '',
    'For throughput rows the ratio is ours ÷ reference units per second. Above 1× ours is faster; below 1× slower:',
    '0.8× means ours processes 80% as many units per second as the reference. Rows that compare another figure',
    '(latency, memory) name it in their columns and say in their text which direction is better. Absolute figures',
    'depend on the machine; the ratio is the figure to compare across machines and commits. A reference is the least',
    'work that does the job, not a rival product, so a ratio below 1× is expected where Deputy does more',
    '(durability, checks, review output) and says how much that costs.',
    '',
    ...summaryTable(results),
    '',
    'Each section below lists every timed round and its ratio. Where the min–max range straddles 1×, the sides are',
    'within noise of each other. The fsync-bound benchmarks (changeset apply, audit append) follow the storage',
    'and whatever else is writing to it at the time, so their ratios move more between runs than the CPU-bound ones.',
    '',
    ...(ctx.sizes ? ['## Sizes', '', ...sizesTable(ctx.sizes), ''] : []),
    '## The benchmarks',
    '',
    ...allRows(results).flatMap(section),
    '## Running them',
    '',
    '```sh',
    'npm run bench                      # all, rewrites this file',
    'npm run bench -- events audit      # the named ones (an id or its prefix); prints only',
    'npm run bench -- audit --write     # the named ones, and rewrite this file with just them',
    'node --import tsx bench/before-after.ts ../deputy-main verify   # this checkout vs another one (before a change)',
    '```',
    '',
    'Sizes come from the environment (defaults in brackets; this run used the values after the arrow):',
    '',
    `- \`BENCH_WARMUP\` [1] → ${c.warmup}, \`BENCH_ROUNDS\` [5] → ${c.rounds}`,
    `- \`BENCH_EVENTS\` text deltas in the session [5000] → ${c.events}`,
    `- \`BENCH_FILES\` [1000] → ${c.files}, \`BENCH_LINES_PER_FILE\` [100] → ${c.linesPerFile}`,
    `- \`BENCH_AUDIT_APPENDS\` records per append run [500] → ${c.auditAppends}`,
    `- \`BENCH_AUDIT_RECORDS\` records in the verified chain [20000] → ${c.auditRecords}`,
    `- \`BENCH_CLI_STARTS\` process starts per side and round [20] → ${c.cliStarts ?? 20}`,
    '',
    'A benchmark throws, and the run exits non-zero without touching this file, if the two sides of any round do',
    'not produce the same result.',
    '',
  ].join('\n');
}
