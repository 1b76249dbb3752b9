/**
 * Side-by-side measurement: ours against a reference on identical input, in the same process and run, so machine
 * noise hits both alike. Only ratios are meaningful across machines; the absolute figures are for context.
 *
 * A round runs both sides once, back to back, and yields one ratio (ours ÷ reference); rounds alternate which
 * side goes first so neither always gets the warmer cache. The reported ratio is the median of those per-round
 * ratios, with their min and max: a burst of load on the machine hits both sides of one round and cancels out,
 * where a ratio of two separately taken medians could pair a quiet round of one side with a loaded round of the
 * other. Setup and teardown (fresh copies of inputs) are not timed.
 *
 * Two entry points share that method: `compare` for throughput (each side returns the units it processed; the
 * figure is units per second) and `compareFigures` for anything else a side can measure about itself (a p99
 * latency, bytes of memory, turns per second it times itself).
 */
import { performance } from 'node:perf_hooks';

/** One side of a throughput comparison. `run` does the timed work on what `setup` made and returns the units it processed. */
export interface Side<T> {
  label: string;
  setup: () => Promise<T>;
  run: (input: T) => Promise<number>;
  teardown?: (input: T) => Promise<void>;
}

/**
 * One side of a comparison of figures the side measures itself: `measure` returns this round's figure (for
 * example milliseconds at p99, or bytes of resident memory). Nothing around it is timed.
 */
export interface FigureSide<T> {
  label: string;
  setup: () => Promise<T>;
  measure: (input: T) => Promise<number>;
  teardown?: (input: T) => Promise<void>;
}

export interface CompareOptions {
  /** Untimed rounds first (JIT, page cache, lazily loaded modules). */
  warmup: number;
  rounds: number;
}

/** What one side achieved: the median of its figures over the timed rounds and every sample behind it. */
export interface SideResult {
  label: string;
  /** Median of `samples`: for context only; the ratio is not computed from it. */
  median: number;
  /** The figure of each timed round, in run order (units per second for `compare`). */
  samples: number[];
  /** Units processed in one run (the same every round, or the comparison is refused); null for `compareFigures`. */
  units: number | null;
}

export interface Comparison {
  ours: SideResult;
  reference: SideResult;
  /** Ours ÷ reference of each timed round, in run order. */
  ratios: number[];
  /** Median of `ratios`: the headline figure. For throughput, above 1 ours is faster, below 1 slower. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function withInput<T, R>(side: { setup: () => Promise<T>; teardown?: (input: T) => Promise<void> }, use: (input: T) => Promise<R>): Promise<R> {
  const input = await side.setup();
  try {
    return await use(input);
  } finally {
    await side.teardown?.(input);
  }
}

/**
 * The shared method: `warmup` untimed rounds, then `rounds` timed ones, each running both sides back to back and
 * alternating which goes first; returns each side's figures and the per-round ratios.
 */
async function pairedRounds(
  ours: { label: string; once: (timed: boolean) => Promise<number> },
  reference: { label: string; once: (timed: boolean) => Promise<number> },
  options: CompareOptions,
): Promise<{ ours: number[]; reference: number[]; ratios: number[] }> {
  if (options.rounds < 1) throw new Error('A comparison needs at least one timed round.');
  const out = { ours: [] as number[], reference: [] as number[], ratios: [] as number[] };
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    const timed = round >= options.warmup;
    let o: number;
    let r: number;
    if (round % 2 === 0) {
      o = await ours.once(timed);
      r = await reference.once(timed);
    } else {
      r = await reference.once(timed);
      o = await ours.once(timed);
    }
    if (!timed) continue;
    if (!(Number.isFinite(o) && Number.isFinite(r) && r > 0 && o >= 0)) {
      throw new Error(`round ${round + 1} measured ${ours.label} = ${o} and ${reference.label} = ${r}; a ratio needs finite figures and a positive reference.`);
    }
    out.ours.push(o);
    out.reference.push(r);
    out.ratios.push(o / r);
  }
  return out;
}

function summarise(
  labels: { ours: string; reference: string },
  rounds: { ours: number[]; reference: number[]; ratios: number[] },
  units: { ours: number | null; reference: number | null },
): Comparison {
  const side = (label: string, s: number[], u: number | null): SideResult => ({ label, median: median(s), samples: s, units: u });
  return {
    ours: side(labels.ours, rounds.ours, units.ours),
    reference: side(labels.reference, rounds.reference, units.reference),
    ratios: rounds.ratios,
    ratio: median(rounds.ratios),
    ratioMin: Math.min(...rounds.ratios),
    ratioMax: Math.max(...rounds.ratios),
  };
}

/**
 * Throughput, ours against a reference: each side's figure is units per second of its timed `run`. Throws if a
 * side processes a different number of units from one round to the next or from the other side: the rates would
 * not describe the same work.
 */
export async function compare<A, B>(ours: Side<A>, reference: Side<B>, options: CompareOptions): Promise<Comparison> {
  const units: { ours: number | null; reference: number | null } = { ours: null, reference: null };
  const timedRate = (which: 'ours' | 'reference', side: Side<A> | Side<B>) => async (): Promise<number> => {
    const { count, seconds } = await withInput(side as Side<unknown>, async (input) => {
      const start = performance.now();
      const count = await side.run(input as never);
      return { count, seconds: (performance.now() - start) / 1000 };
    });
    const seen = units[which];
    if (seen !== null && seen !== count) {
      throw new Error(`${which} processed ${count} units in one round and ${seen} in another; the input is not stable.`);
    }
    units[which] = count;
    return count / Math.max(seconds, 1e-9);
  };
  const rounds = await pairedRounds(
    { label: ours.label, once: timedRate('ours', ours) },
    { label: reference.label, once: timedRate('reference', reference) },
    options,
  );
  if (units.ours !== units.reference) {
    throw new Error(`ours processed ${units.ours} units but the reference ${units.reference}; they did not do the same work.`);
  }
  return summarise({ ours: ours.label, reference: reference.label }, rounds, units);
}

/**
 * Figures each side measures itself (latency, memory, a rate it times on its own), compared by the same method:
 * one ratio per round, median with min and max. The caller's text says which direction is better.
 */
/**
 * A comparison of figures both sides already measured in the same rounds (round i of ours beside round i of the
 * reference), for a second figure of one paired run: the `events.create` p99 of the load whose turns/s is the row
 * above it, the longest task of the same webview rounds.
 */
export function pairedFigures(labels: { ours: string; reference: string }, ours: readonly number[], reference: readonly number[]): Comparison {
  if (ours.length === 0 || ours.length !== reference.length) throw new Error(`paired figures need as many rounds on each side (${ours.length} and ${reference.length})`);
  if (!reference.every((r) => Number.isFinite(r) && r > 0) || !ours.every((o) => Number.isFinite(o) && o >= 0)) {
    throw new Error('a ratio needs finite figures and a positive reference');
  }
  return summarise(labels, { ours: [...ours], reference: [...reference], ratios: ours.map((o, i) => o / reference[i]!) }, { ours: null, reference: null });
}

export async function compareFigures<A, B>(ours: FigureSide<A>, reference: FigureSide<B>, options: CompareOptions): Promise<Comparison> {
  const once = <T>(side: FigureSide<T>) => () => withInput(side, (input) => side.measure(input));
  const rounds = await pairedRounds({ label: ours.label, once: once(ours) }, { label: reference.label, once: once(reference) }, options);
  return summarise({ ours: ours.label, reference: reference.label }, rounds, { ours: null, reference: null });
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
