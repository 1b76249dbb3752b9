/**
 * The benchmark machinery and a tiny run of every benchmark: a benchmark whose two sides stop doing the same work
 * (or whose module under test breaks) fails here before anyone reads a wrong ratio. No timing is asserted.
 * Run: node scripts/test.mjs bench/ (npm test runs it too)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditAppend, auditSigned, auditVerify } from './audit.js';
import { stopAll } from './stop-all.js';
import type { BenchConfig, BenchmarkResult } from './benchmark.js';
import { machineFacts, shareInWords } from './benchmark.js';
import { changesetApply, changesetApplyDurable } from './changeset.js';
import { reviewApply, reviewApplyEditor } from './review-apply.js';
import { commandGate, sandboxSpawn } from './command-gate.js';
import { codeLens, codeLensKeystroke, sourceFile } from './code-lens.js';
import { beforeAfter } from './before-after.js';
import path from 'node:path';
import { cliStartup } from './cli-startup.js';
import { eventStream } from './events.js';
import { compare, compareFigures, envInt, median, type FigureSide, type Side } from './measure.js';
import { consoleTable, formatRatio, markdownReport } from './report.js';
import { configFromEnv, selectBenchmarks } from './run.js';

function countingSide(label: string, units: number, order: string[]): Side<null> {
  return { label, setup: async () => null, run: async () => (order.push(label), units) };
}

test('median of odd and even counts', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]));
});

test('compare alternates which side goes first and keeps only timed rounds', async () => {
  const order: string[] = [];
  const result = await compare(countingSide('ours', 10, order), countingSide('ref', 10, order), { warmup: 1, rounds: 3 });
  assert.deepEqual(order, ['ours', 'ref', 'ref', 'ours', 'ours', 'ref', 'ref', 'ours']);
  assert.equal(result.ours.samples.length, 3);
  assert.equal(result.reference.samples.length, 3);
  assert.equal(result.ours.units, 10);
  assert.equal(result.ratios.length, 3);
  result.ratios.forEach((r, i) => assert.equal(r, result.ours.samples[i]! / result.reference.samples[i]!));
});

/** A figure side that reports the next value of `figures` each round (warm-up rounds included). */
function scriptedSide(label: string, figures: number[]): FigureSide<null> {
  let i = 0;
  return { label, setup: async () => null, measure: async () => figures[i++]! };
}

test('the ratio is the median of per-round ratios with min and max, not a ratio of medians', async () => {
  // Round 2 ran on a loaded machine (both sides slow, same ratio); round 3's reference had a lucky burst. Each
  // round's ratio: 0.5, 0.5, 0.2 → median 0.5. Medians taken side by side (60 / 200 = 0.3) would pair figures
  // from different rounds and report a gap no round showed.
  const ours = scriptedSide('ours', [100, 20, 60]);
  const reference = scriptedSide('ref', [200, 40, 300]);
  const c = await compareFigures(ours, reference, { warmup: 0, rounds: 3 });
  assert.deepEqual(c.ratios, [0.5, 0.5, 0.2]);
  assert.equal(c.ratio, 0.5);
  assert.equal(c.ours.median / c.reference.median, 0.3);
  assert.equal(c.ratioMin, 0.2);
  assert.equal(c.ratioMax, 0.5);
  assert.equal(c.ours.units, null);

  const spread = await compareFigures(scriptedSide('ours', [9, 1, 2, 3]), scriptedSide('ref', [9, 4, 2, 1]), { warmup: 1, rounds: 3 });
  assert.deepEqual(spread.ratios, [0.25, 1, 3], 'warm-up figures are dropped, ratios kept in run order');
  assert.equal(spread.ratio, 1);
  assert.equal(spread.ratioMin, 0.25);
  assert.equal(spread.ratioMax, 3);
});

test('compareFigures alternates sides and refuses a ratio without a positive reference', async () => {
  const order: string[] = [];
  const side = (label: string): FigureSide<null> => ({ label, setup: async () => null, measure: async () => (order.push(label), 1) });
  await compareFigures(side('ours'), side('ref'), { warmup: 0, rounds: 2 });
  assert.deepEqual(order, ['ours', 'ref', 'ref', 'ours']);
  await assert.rejects(compareFigures(scriptedSide('ours', [1]), scriptedSide('ref', [0]), { warmup: 0, rounds: 1 }), /positive reference/);
});

test('compare refuses sides that did different amounts of work', async () => {
  const order: string[] = [];
  await assert.rejects(compare(countingSide('ours', 10, order), countingSide('ref', 11, order), { warmup: 0, rounds: 1 }), /did not do the same work/);
  let n = 0;
  const unstable: Side<null> = { label: 'unstable', setup: async () => null, run: async () => ++n };
  await assert.rejects(compare(unstable, countingSide('ref', 1, order), { warmup: 0, rounds: 2 }), /not stable/);
});

test('compare runs teardown even when a run throws', async () => {
  let tornDown = 0;
  const failing: Side<null> = {
    label: 'failing',
    setup: async () => null,
    run: async () => {
      throw new Error('boom');
    },
    teardown: async () => void tornDown++,
  };
  await assert.rejects(compare(failing, countingSide('ref', 1, []), { warmup: 0, rounds: 1 }), /boom/);
  assert.equal(tornDown, 1);
});

test('a ratio far below 1 keeps two significant digits', () => {
  assert.equal(formatRatio(0.0043), '0.0043×');
  assert.equal(formatRatio(0.29), '0.29×');
  assert.equal(formatRatio(23.14), '23.1×');
  assert.equal(shareInWords(0.0043), 'under 1% as many (about 1 for every 233)');
});

test('ratios in words', () => {
  assert.equal(shareInWords(0.89), '89% as many');
  assert.equal(shareInWords(0.04), '4% as many (about 1 for every 25)');
  assert.equal(shareInWords(1), 'as many');
  assert.equal(shareInWords(2.5), '2.5 times as many');
});

test('sizes come from the environment and bad values are refused', () => {
  assert.equal(envInt('X', 7, 1, {}), 7);
  assert.equal(envInt('X', 7, 1, { X: '12' }), 12);
  assert.equal(envInt('X', 7, 0, { X: '0' }), 0);
  assert.throws(() => envInt('X', 7, 1, { X: '0' }), /X="0"/);
  assert.throws(() => envInt('X', 7, 1, { X: '1.5' }), /whole number/);
  assert.equal(configFromEnv({ BENCH_FILES: '3' }).files, 3);
});

test('benchmarks are chosen by id or prefix, unknown names are refused', () => {
  assert.deepEqual(selectBenchmarks([]).map((b) => b.id), [
    'events', 'changeset', 'changeset-durable', 'review-apply', 'review-apply-editor', 'review-apply-vscode', 'audit-append', 'audit-signed', 'audit-verify', 'cli-startup', 'webview', 'activation', 'environment-command',
    'environment-read', 'environment-shadow', 'command-gate', 'sandbox-spawn', 'runtime-load', 'runtime-vs-base', 'stream-memory', 'policy-decision', 'code-lens',
    'code-lens-keystroke', 'stop-all',
  ]);
  assert.deepEqual(selectBenchmarks(['code-lens']).map((b) => b.id), ['code-lens', 'code-lens-keystroke']);
  assert.deepEqual(selectBenchmarks(['environment']).map((b) => b.id), ['environment-command', 'environment-read', 'environment-shadow']);
  assert.deepEqual(selectBenchmarks(['audit']).map((b) => b.id), ['audit-append', 'audit-signed', 'audit-verify']);
  assert.deepEqual(selectBenchmarks(['audit-verify', 'events']).map((b) => b.id), ['events', 'audit-verify']);
  assert.throws(() => selectBenchmarks(['nope']), /No benchmark is called "nope".*events, changeset/);
});

const TINY: BenchConfig = { warmup: 0, rounds: 1, events: 120, files: 4, linesPerFile: 30, auditAppends: 6, auditRecords: 40, commands: 4, cliStarts: 2 };

async function tiny(b: { run(c: BenchConfig, log: (l: string) => void): Promise<BenchmarkResult> }): Promise<BenchmarkResult> {
  return b.run(TINY, () => undefined);
}

test('events: both streams read the whole replayed history', async () => {
  const r = await tiny(eventStream);
  // 120 deltas plus the turn's other events (item added/done, content parts, turn and session status).
  assert.ok((r.comparison.ours.units ?? 0) > 120, `${r.comparison.ours.units} events`);
  assert.equal(r.comparison.ours.units, r.comparison.reference.units);
  assert.match(r.input, /120 `output_text.delta`/);
});

test('changeset: both sides apply every file of the patch', async () => {
  const r = await tiny(changesetApply);
  assert.equal(r.comparison.ours.units, 4);
  assert.equal(r.comparison.reference.units, 4);
  assert.match(r.input, /4 files × 30 lines/);
  const durable = await tiny(changesetApplyDurable);
  assert.equal(durable.comparison.reference.units, 4);
  assert.match(durable.reference, /fsync of every file/);
});

test('review-apply: both sides apply every approved file, through the disk port and through the editor port', async () => {
  for (const b of [reviewApply, reviewApplyEditor]) {
    const r = await tiny(b);
    assert.equal(r.comparison.ours.units, 4);
    assert.equal(r.comparison.reference.units, 4);
  }
});

test('audit: appends and verifies whole chains', async () => {
  const append = await tiny(auditAppend);
  assert.equal(append.comparison.ours.units, 6);
  const signed = await tiny(auditSigned);
  assert.equal(signed.comparison.ours.units, 6);
  assert.equal(signed.comparison.reference.units, 6);
  const verify = await tiny(auditVerify);
  assert.equal(verify.comparison.ours.units, 40);
  assert.equal(verify.comparison.reference.units, 40);
});

test('code lenses: both sides scan every line and find every marker; every keystroke applies', async () => {
  const saved = { lines: process.env.BENCH_LENS_LINES, passes: process.env.BENCH_LENS_PASSES, keys: process.env.BENCH_LENS_KEYSTROKES };
  Object.assign(process.env, { BENCH_LENS_LINES: '400', BENCH_LENS_PASSES: '2', BENCH_LENS_KEYSTROKES: '5' });
  try {
    const n = sourceFile(400).markers;
    assert.ok(n >= 3, `${n} markers`);
    const scan = await tiny(codeLens);
    assert.equal(scan.comparison.ours.units, 800);
    assert.equal(scan.comparison.reference.units, 800);
    assert.match(scan.verified, new RegExp(`same ${n} markers \\(ours: ${n * 2} lenses\\)`));
    const keys = await tiny(codeLensKeystroke);
    assert.equal(keys.comparison.ours.units, 5);
    assert.equal(keys.comparison.reference.units, 5);
  } finally {
    for (const [k, v] of [['BENCH_LENS_LINES', saved.lines], ['BENCH_LENS_PASSES', saved.passes], ['BENCH_LENS_KEYSTROKES', saved.keys]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('command gate and sandbox: both sides run every command with the same output', async () => {
  for (const b of [commandGate, sandboxSpawn]) {
    const r = await tiny(b);
    assert.equal(r.comparison.ours.units, 4);
    assert.equal(r.comparison.reference.units, 4);
  }
});

test('cli-startup: both sides start the same number of processes (needs npm run build)', async () => {
  const r = await tiny(cliStartup);
  assert.equal(r.comparison.ours.units, 2);
  assert.equal(r.comparison.reference.units, 2);
});

test('before-after: this checkout against itself runs every comparison', async () => {
  const lines = await beforeAfter(path.resolve(__dirname, '..'), [], { warmup: 0, rounds: 1, auditRecords: 30, auditAppends: 3, files: 3 });
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^verify \(30 records\): this checkout ÷ \S+ = [\d.]+×/);
  assert.match(lines[2]!, /^apply \(3 files/);
});

test('the report states the command, machine, ratio and how to read it', () => {
  const result: BenchmarkResult = {
    id: 'demo',
    title: 'Demo',
    unit: 'things',
    input: 'ten things',
    ours: 'ours',
    reference: 'theirs',
    meaning: 'things per second, ours ÷ reference.',
    verified: 'both counted ten',
    comparison: {
      ours: { label: 'ours', median: 80, samples: [70, 80, 90], units: 10 },
      reference: { label: 'ref', median: 100, samples: [100, 100, 100], units: 10 },
      ratios: [0.7, 0.8, 0.9],
      ratio: 0.8,
      ratioMin: 0.7,
      ratioMax: 0.9,
    },
  };
  const machine = machineFacts();
  const md = markdownReport([result], { date: new Date('2030-01-02T00:00:00Z'), command: 'npm run bench', machine, config: TINY, seconds: 3 });
  assert.match(md, /Measured 2030-01-02 with `npm run bench`/);
  assert.match(md, new RegExp(`Node ${machine.node.replace(/\./g, '\\.')}`));
  assert.match(md, /\| Demo \| 80\.0 things\/s \| 100 things\/s \| \*\*0\.80×\*\* \| 0\.70–0\.90× \|/);
  assert.match(md, /median\s+of those per-round ratios, with the lowest and highest round/);
  assert.match(md, /ratio 0\.70×, 0\.80×, 0\.90×/);
  assert.match(consoleTable([result]), /demo\s+80\.0\s+100\s+0\.80×\s+0\.70–0\.90×\s+things\/s/);
  const memory = markdownReport([{ ...result, figure: 'MiB' }], { date: new Date(), command: 'x', machine, config: TINY, seconds: 1 });
  assert.match(memory, /\| Demo \| 80\.0 MiB \| 100 MiB \|/);
});

test('stop-all: both sides leave none of the sessions on two runtimes running', async () => {
  const saved = process.env.BENCH_STOP_SESSIONS;
  process.env.BENCH_STOP_SESSIONS = '2';
  try {
    const r = await tiny(stopAll);
    assert.match(r.verified, /none of the 4 sessions running/);
    assert.ok(r.comparison.ours.samples.every((ms) => ms > 0) && r.comparison.reference.samples.every((ms) => ms > 0));
  } finally {
    if (saved === undefined) delete process.env.BENCH_STOP_SESSIONS;
    else process.env.BENCH_STOP_SESSIONS = saved;
  }
});
