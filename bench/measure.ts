/**
 * Side-by-side measurement: ours against a reference on identical input, in the same process and run, so machine
 * noise hits both alike. Only ratios are meaningful across machines; the absolute rates are for context.
 *
 * A round runs both sides once; rounds alternate which side goes first so neither always gets the warmer
 * cache. Setup and teardown (fresh copies of inputs) are not timed.
 */
import { performance } from 'node:perf_hooks';

/** One side of a comparison. `run` does the timed work on what `setup` made and returns the units it processed. */
export interface Side<T> {
  label: string;
  setup: () => Promise<T>;
  run: (input: T) => Promise<number>;
  teardown?: (input: T) => Promise<void>;
}

export interface CompareOptions {
  /** Untimed rounds first (JIT, page cache, lazily loaded modules). */
  warmup: number;
  rounds: number;
}

/** What one side achieved: the median throughput over the timed rounds and every sample behind it. */
export interface SideResult {
  label: string;
  /** Units per second, median of the rounds. */
  median: number;
  /** Units per second of each timed round, in run order. */
  samples: number[];
  /** Units processed in one run (the same every round, or the comparison is refused). */
  units: number;
}

export interface Comparison {
  ours: SideResult;
  reference: SideResult;
  /** ours.median / reference.median: above 1 ours is faster, below 1 slower. */
  ratio: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timeOnce<T>(side: Side<T>): Promise<{ units: number; seconds: number }> {
  const input = await side.setup();
  try {
    const start = performance.now();
    const units = await side.run(input);
    const seconds = (performance.now() - start) / 1000;
    return { units, seconds };
  } finally {
    await side.teardown?.(input);
  }
}

/**
 * Runs `warmup` untimed rounds then `rounds` timed ones, alternating which side goes first. Throws if a side
 * processes a different number of units from one round to the next or from the other side: the rates would not
 * describe the same work.
 */
export async function compare<A, B>(ours: Side<A>, reference: Side<B>, options: CompareOptions): Promise<Comparison> {
  if (options.rounds < 1) throw new Error('A comparison needs at least one timed round.');
  const samples = { ours: [] as number[], reference: [] as number[] };
  let units: { ours?: number; reference?: number } = {};
  const record = (which: 'ours' | 'reference', r: { units: number; seconds: number }, timed: boolean) => {
    const seen = units[which];
    if (seen !== undefined && seen !== r.units) {
      throw new Error(`${which} processed ${r.units} units in one round and ${seen} in another; the input is not stable.`);
    }
    units = { ...units, [which]: r.units };
    if (timed) samples[which].push(r.units / Math.max(r.seconds, 1e-9));
  };
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    const timed = round >= options.warmup;
    if (round % 2 === 0) {
      record('ours', await timeOnce(ours), timed);
      record('reference', await timeOnce(reference), timed);
    } else {
      record('reference', await timeOnce(reference), timed);
      record('ours', await timeOnce(ours), timed);
    }
  }
  if (units.ours !== units.reference) {
    throw new Error(`ours processed ${units.ours} units but the reference ${units.reference}; they did not do the same work.`);
  }
  const side = (label: string, s: number[], u: number): SideResult => ({ label, median: median(s), samples: s, units: u });
  const o = side(ours.label, samples.ours, units.ours!);
  const r = side(reference.label, samples.reference, units.reference!);
  return { ours: o, reference: r, ratio: o.median / r.median };
}

/** A mistake in how the benchmarks were invoked: reported as its message alone, without a stack. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** A whole number >= `min` from the environment, or the default; anything else is a mistake worth stopping for. */
export function envInt(name: string, fallback: number, min = 1, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new BenchUsageError(`${name}=${JSON.stringify(raw)} is not a whole number >= ${min}; unset it or give e.g. ${name}=${fallback}.`);
  }
  return value;
}
