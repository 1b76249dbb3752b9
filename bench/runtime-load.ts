/**
 * The runtime under load: many sessions at once, each running turns of streamed text, driven through the real
 * `openai` client against a runtime in its own process (bench/runtime-process.ts) whose upstream is the scripted
 * model. Two figures per side: turns completed per second, and the latency of `events.create` (the request that
 * starts a turn), whose p99 shows how long other requests wait while the store is busy.
 *
 * Two comparisons, each side by side in one run:
 * - `runtime-load`: this tree with its store on disk against the same code with its store on tmpfs (/dev/shm),
 *   so the ratio is what durable storage costs under load;
 * - `runtime-vs-base`: this tree against another version of the runtime (a commit or a checkout,
 *   `BENCH_RUNTIME_BASE`), both with the store on disk: the before/after of a change, on the same machine.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { startScriptedModel, type ScriptedModel } from '../test/fixtures/model-server.js';
import { shareInWords, type Benchmark, type BenchmarkResult } from './benchmark.js';
import { compare, envInt, median, pairedFigures, type Side } from './measure.js';
import { formatRatio } from './report.js';
import { runtimeSource, startRuntimeProcess, type RuntimeProcess, type RuntimeSource } from './runtime-process.js';

/** The runtime version `runtime-vs-base` compares against by default: main before the store and stream rework. */
export const DEFAULT_BASE = '058f6c5058e7f03f8f524b20f5f8211a988d980b';

export interface LoadSizes {
  sessions: number;
  turns: number;
  /** Words of each answer; the scripted model streams one `output_text.delta` per word. */
  words: number;
  /** A load run takes tens of seconds, so these benchmarks take fewer rounds than the others. */
  warmup: number;
  rounds: number;
}

export function loadSizesFromEnv(env: NodeJS.ProcessEnv = process.env): LoadSizes {
  return {
    sessions: envInt('BENCH_LOAD_SESSIONS', 200, 1, env),
    turns: envInt('BENCH_LOAD_TURNS', 2, 1, env),
    words: envInt('BENCH_LOAD_WORDS', 10, 1, env),
    warmup: envInt('BENCH_LOAD_WARMUP', 0, 0, env),
    rounds: envInt('BENCH_LOAD_ROUNDS', 3, 1, env),
  };
}

/** Where a store on tmpfs goes: `BENCH_TMPFS`, else /dev/shm. */
function tmpfsRoot(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.BENCH_TMPFS || '/dev/shm';
  if (!existsSync(root)) {
    throw new Error(`No tmpfs at ${root} for the store-on-tmpfs side; set BENCH_TMPFS to a folder on a memory file system.`);
  }
  return root;
}

function answerText(words: number): string {
  const vocabulary = ['load', 'tests', 'show', 'where', 'the', 'runtime', 'waits', 'on', 'its', 'store'];
  return Array.from({ length: words }, (_, i) => vocabulary[i % vocabulary.length]).join(' ');
}

/** p99 by nearest rank: the smallest value at least 99% of the values are at or below. */
export function p99(values: readonly number[]): number {
  if (values.length === 0) throw new Error('p99 of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

interface LoadRun {
  turns: number;
  createMs: number[];
}

const message = (text: string) => ({
  type: 'agent.session.input.message' as const,
  input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text }] }],
});

/** One session: open its stream, then `turns` times send a message and read until the turn's idle. */
async function driveSession(client: OpenAI, sizes: LoadSizes, expected: string, createMs: number[]): Promise<number> {
  const sessions = client.beta.agents.sessions;
  const session = await sessions.create({ environment: { type: 'none' }, agent: { model: 'scripted' } });
  const stream = await sessions.events.stream(session.id);
  const events = stream[Symbol.asyncIterator]() as AsyncIterator<AgentSessionEvent>;
  let completed = 0;
  try {
    for (let t = 0; t < sizes.turns; t++) {
      const started = performance.now();
      await sessions.events.create(session.id, { events: [message(`turn ${t}`)], 'Idempotency-Key': `${session.id}-${t}` });
      createMs.push(performance.now() - started);
      let text: string | null = null;
      for (;;) {
        const next = await events.next();
        if (next.done) throw new Error(`The stream of ${session.id} ended during turn ${t + 1}.`);
        const event = next.value;
        if (event.type === 'agent.session.turn.output_text.done') text = event.text;
        if (event.type === 'agent.session.turn.failed' || event.type === 'agent.session.turn.cancelled') {
          throw new Error(`Turn ${t + 1} of ${session.id} ended ${event.type}: ${JSON.stringify('turn' in event ? event.turn.error : event)}`);
        }
        if (event.type === 'agent.session.idle') break;
      }
      if (text !== expected) throw new Error(`Turn ${t + 1} of ${session.id} answered ${JSON.stringify(text)?.slice(0, 80)}, not the scripted text.`);
      completed++;
    }
  } finally {
    stream.controller.abort();
  }
  return completed;
}

/** The whole load against one runtime: every session at once. */
export async function driveLoad(runtime: { url: string; token: string }, sizes: LoadSizes): Promise<LoadRun> {
  // The client's default retries (with an Idempotency-Key on each input): a runtime that stalls long enough for
  // connections to time out is retried as a real client would, and the wait shows in the latency.
  const client = new OpenAI({ apiKey: runtime.token, baseURL: `${runtime.url}/v1`, maxRetries: 2, timeout: 300_000 });
  const expected = answerText(sizes.words);
  const createMs: number[] = [];
  const done = await Promise.all(Array.from({ length: sizes.sessions }, () => driveSession(client, sizes, expected, createMs)));
  return { turns: done.reduce((a, b) => a + b, 0), createMs };
}

interface Running {
  model: ScriptedModel;
  runtime: RuntimeProcess;
  dataDir: string;
}

/** A side: a fresh model and runtime process (untimed), then the timed load; p99 of each run goes to `p99s`. */
function loadSide(label: string, source: () => RuntimeSource, storeRoot: () => string, sizes: LoadSizes, p99s: number[]): Side<Running> {
  return {
    label,
    async setup() {
      const text = answerText(sizes.words);
      // Twice the turns: a model call the runtime retries (a dropped connection) takes another answer.
      const model = await startScriptedModel(Array.from({ length: 2 * sizes.sessions * sizes.turns }, () => ({ text })));
      const dataDir = await fs.mkdtemp(path.join(storeRoot(), 'deputy-bench-load-'));
      try {
        const runtime = await startRuntimeProcess({ srcDir: source().srcDir, dataDir, modelBaseURL: model.baseURL });
        return { model, runtime, dataDir };
      } catch (err) {
        await model.close();
        await fs.rm(dataDir, { recursive: true, force: true });
        throw err;
      }
    },
    async run({ runtime }) {
      const result = await driveLoad(runtime, sizes);
      p99s.push(p99(result.createMs));
      return result.turns;
    },
    async teardown({ model, runtime, dataDir }) {
      await runtime.stop();
      await model.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

function ms(values: readonly number[]): string {
  const f = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
  return `${f(median(values))} ms (rounds: ${values.map(f).join(', ')})`;
}

function inputText(sizes: LoadSizes): string {
  return (
    `${sizes.sessions.toLocaleString('en-US')} sessions at once × ${sizes.turns} turns, each answer ${sizes.words} words streamed by the ` +
    `scripted model (one \`output_text.delta\` event per word), driven by the \`openai\` client over loopback against a runtime in its own process; ` +
    `${sizes.warmup} warm-up and ${sizes.rounds} timed rounds (\`BENCH_LOAD_WARMUP\`, \`BENCH_LOAD_ROUNDS\`)`
  );
}

/** Drops the warm-up rounds' p99s: `compare` runs each side once per round, warm-ups first. */
const timed = (values: number[], sizes: LoadSizes) => values.slice(sizes.warmup);

/** The `events.create` p99 of the same rounds as a row of its own (latency: below 1× ours waits less). */
function p99Row(
  parent: { id: string; title: string; input: string; verified: string },
  labels: { ours: string; reference: string },
  ours: number[],
  reference: number[],
  words: { ours: string; reference: string; vs: string },
): BenchmarkResult {
  const comparison = pairedFigures(labels, ours, reference);
  return {
    id: `${parent.id}-p99`,
    title: parent.title.replace(/^Runtime load: turns\/s/, 'Runtime load: `events.create` p99'),
    unit: 'requests',
    figure: 'ms at p99',
    input: `${parent.input}; every \`events.create\` of a round timed from request to response`,
    ours: words.ours,
    reference: words.reference,
    meaning:
      `the p99 latency of \`events.create\` (the request that starts a turn) in the same rounds as the turns/s row above, ${words.vs}: ` +
      `${formatRatio(comparison.ratio)} means the slowest 1% of those requests waited ${comparison.ratio >= 1 ? `${comparison.ratio.toFixed(1)} times as long` : `${Math.round(comparison.ratio * 100)}% as long`}. ` +
      'Below 1× ours answers sooner; it is how long a client waits to start a turn while the other sessions stream.',
    verified: parent.verified,
    comparison,
  };
}

export function makeRuntimeLoad(
  sizes: () => LoadSizes = () => loadSizesFromEnv(),
  source: () => string = () => process.env.BENCH_RUNTIME ?? '',
): Benchmark {
  return {
    id: 'runtime-load',
    title: 'Runtime load: turns/s with the store on disk vs on tmpfs',
    async run(_config, log): Promise<BenchmarkResult> {
      const s = sizes();
      const tree = await runtimeSource(source());
      const disk: number[] = [];
      const memory: number[] = [];
      const shm = tmpfsRoot();
      log(`runtime-load: ${tree.label}, ${s.sessions} sessions × ${s.turns} turns, store in ${os.tmpdir()} vs ${shm}`);
      let comparison;
      try {
        comparison = await compare(
          loadSide('store on disk', () => tree, () => os.tmpdir(), s, disk),
          loadSide('store on tmpfs', () => tree, () => shm, s, memory),
          s,
        );
      } finally {
        await tree.dispose();
      }
      const [pDisk, pMemory] = [timed(disk, s), timed(memory, s)];
      const who = tree.label === 'this tree' ? 'the runtime' : `the runtime of ${tree.label} (\`BENCH_RUNTIME\`)`;
      return {
        id: this.id,
        title: this.title,
        unit: 'turns',
        input: inputText(s),
        ours: `${who} with its store in ${os.tmpdir()} (disk); \`events.create\` p99 ${ms(pDisk)}`,
        reference: `the same runtime with its store in ${shm} (tmpfs: fsync costs nothing); \`events.create\` p99 ${ms(pMemory)}`,
        meaning:
          `turns completed per second, disk ÷ tmpfs: ${formatRatio(comparison.ratio)} means the runtime finishes ${shareInWords(comparison.ratio)} ` +
          'turns per second with a durable store as with one in memory; the gap is what syncing the store to disk costs under load. ' +
          'The `events.create` p99 is the latency of the request that starts a turn: how long a client waits while other sessions stream.',
        verified: `every round, each side completes all ${(s.sessions * s.turns).toLocaleString('en-US')} turns and every answer equals the scripted text`,
        comparison,
        rows: [
          p99Row(
            { id: this.id, title: this.title, input: inputText(s), verified: `the p99 of exactly ${(s.sessions * s.turns).toLocaleString('en-US')} requests per side and round` },
            { ours: 'store on disk', reference: 'store on tmpfs' },
            pDisk,
            pMemory,
            { ours: `${who} with its store in ${os.tmpdir()} (disk)`, reference: `the same runtime with its store in ${shm} (tmpfs)`, vs: 'disk ÷ tmpfs' },
          ),
        ],
      };
    },
  };
}

export function makeRuntimeLoadBase(
  sizes: () => LoadSizes = () => loadSizesFromEnv(),
  base: () => string = () => process.env.BENCH_RUNTIME_BASE || DEFAULT_BASE,
  source: () => string = () => process.env.BENCH_RUNTIME ?? '',
): Benchmark {
  return {
    id: 'runtime-vs-base',
    title: 'Runtime load: turns/s of this tree vs the base version, store on disk',
    async run(_config, log): Promise<BenchmarkResult> {
      const s = sizes();
      const tree = await runtimeSource(source());
      const before = await runtimeSource(base());
      try {
        const ours: number[] = [];
        const theirs: number[] = [];
        log(`runtime-vs-base: ${tree.label} vs ${before.label}, ${s.sessions} sessions × ${s.turns} turns, store in ${os.tmpdir()}`);
        const comparison = await compare(
          loadSide(tree.label, () => tree, () => os.tmpdir(), s, ours),
          loadSide(before.label, () => before, () => os.tmpdir(), s, theirs),
          s,
        );
        const [pOurs, pTheirs] = [timed(ours, s), timed(theirs, s)];
        return {
          id: this.id,
          title: this.title,
          unit: 'turns',
          input: inputText(s),
          ours: `the runtime of ${tree.label}${tree.label === 'this tree' ? '' : ' (`BENCH_RUNTIME`)'}, store in ${os.tmpdir()}; \`events.create\` p99 ${ms(pOurs)}`,
          reference: `the runtime of ${before.label} (\`BENCH_RUNTIME_BASE\`), same load, same disk; \`events.create\` p99 ${ms(pTheirs)}`,
          meaning:
            `turns completed per second, this tree ÷ the base: ${formatRatio(comparison.ratio)} means this tree's runtime finishes ` +
            `${shareInWords(comparison.ratio)} turns per second as the base version under the same load on the same machine.`,
          verified: `every round, each side completes all ${(s.sessions * s.turns).toLocaleString('en-US')} turns and every answer equals the scripted text`,
          comparison,
          rows: [
            p99Row(
              { id: this.id, title: this.title, input: inputText(s), verified: `the p99 of exactly ${(s.sessions * s.turns).toLocaleString('en-US')} requests per side and round` },
              { ours: tree.label, reference: before.label },
              pOurs,
              pTheirs,
              { ours: `the runtime of ${tree.label}, store in ${os.tmpdir()}`, reference: `the runtime of ${before.label} (\`BENCH_RUNTIME_BASE\`), same load, same disk`, vs: 'this tree ÷ the base' },
            ),
          ],
        };
      } finally {
        await before.dispose();
        await tree.dispose();
      }
    },
  };
}

export const runtimeLoad = makeRuntimeLoad();
export const runtimeLoadBase = makeRuntimeLoadBase();
