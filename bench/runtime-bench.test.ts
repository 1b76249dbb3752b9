/**
 * A tiny run of the runtime benchmarks: both sides finish every turn with the scripted answer, the figures they
 * report are there, and a base version can be taken from a commit. No timing is asserted.
 * Run: node scripts/test.mjs bench/runtime
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeRuntimeLoad, makeRuntimeLoadBase, p99, DEFAULT_BASE, type LoadSizes } from './runtime-load.js';
import { runtimeSource } from './runtime-process.js';
import type { BenchConfig } from './benchmark.js';
import { streamMemory } from './stream-memory.js';

const TINY: LoadSizes = { sessions: 3, turns: 2, words: 5, warmup: 0, rounds: 1 };
const CONFIG = { warmup: 0, rounds: 1 } as BenchConfig;

test('p99 by nearest rank', () => {
  assert.equal(p99([5]), 5);
  assert.equal(p99(Array.from({ length: 100 }, (_, i) => i + 1)), 99);
  assert.equal(p99(Array.from({ length: 200 }, (_, i) => 200 - i)), 198);
  assert.throws(() => p99([]));
});

test('runtime-load: both stores complete every turn; the p99 of events.create is reported per side', async () => {
  const r = await makeRuntimeLoad(() => TINY).run(CONFIG, () => undefined);
  assert.equal(r.comparison.ours.units, 6);
  assert.equal(r.comparison.reference.units, 6);
  assert.match(r.ours, /p99 [\d.,]+ ms/);
  assert.match(r.reference, /tmpfs.*p99 [\d.,]+ ms/);
  assert.match(r.input, /3 sessions at once × 2 turns/);
  // The p99 is a row of its own, paired round by round with the turns/s it came from.
  const [p] = r.rows ?? [];
  assert.equal(p?.id, 'runtime-load-p99');
  assert.equal(p?.figure, 'ms at p99');
  assert.equal(p?.comparison.ratios.length, 1);
  assert.ok((p?.comparison.ours.median ?? 0) > 0 && (p?.comparison.reference.median ?? 0) > 0);
});

// Two runtime processes: minutes on a loaded 2-core machine.
test('stream-memory: both sides complete every turn and report the runtime\'s RSS growth', { timeout: 600_000 }, async () => {
  process.env.BENCH_STREAM_TURNS = '1';
  process.env.BENCH_LOAD_ROUNDS = '1';
  try {
    const r = await streamMemory.run(CONFIG, () => undefined);
    assert.equal(r.figure, 'MiB');
    assert.equal(r.comparison.ratios.length, 1);
    assert.ok(r.comparison.reference.median > 0, 'the turns alone grow the runtime');
    assert.match(r.verified, /all 1 turns complete/);
  } finally {
    delete process.env.BENCH_STREAM_TURNS;
    delete process.env.BENCH_LOAD_ROUNDS;
  }
});

test('runtime-vs-base: a checkout as the base runs the same load', async () => {
  const r = await makeRuntimeLoadBase(() => TINY, () => path.resolve(__dirname, '..')).run(CONFIG, () => undefined);
  assert.equal(r.comparison.ours.units, 6);
  assert.equal(r.comparison.reference.units, 6);
});

test('a base given as a commit is extracted with its own runtime source and removed afterwards', async () => {
  const source = await runtimeSource(DEFAULT_BASE);
  try {
    assert.match(source.label, /^commit 058f6c5058/);
    assert.ok(existsSync(path.join(source.srcDir, 'runtime', 'store.ts')));
  } finally {
    await source.dispose();
  }
  assert.ok(!existsSync(source.srcDir));
  await assert.rejects(runtimeSource('no-such-revision-or-folder'), /neither a folder .* nor a commit/);
});
