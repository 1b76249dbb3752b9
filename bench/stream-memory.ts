/**
 * Memory of streams nobody reads: fifty clients open a session's event stream and never read it while twenty turns
 * of 1 MB answers stream (~21 MB of events), then fifty more ask for the whole history and never read that either.
 * The runtime runs in its own process (bench/runtime-process.ts), so its resident memory is its own; the figure is
 * how far it grew over its size before the turns, at the peak. The reference is the same runtime and the same turns
 * with no such clients: what the turns alone cost (the heap's uncollected garbage), so the ratio is what the fifty
 * non-readers add. `test/integration/runtime-streams.test.ts` holds the same load to a bound.
 */
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { startScriptedModel, type ScriptedModel } from '../test/fixtures/model-server.js';
import type { Benchmark, BenchmarkResult } from './benchmark.js';
import { compareFigures, envInt, type FigureSide } from './measure.js';
import { formatRatio } from './report.js';
import { startRuntimeProcess, type RuntimeProcess } from './runtime-process.js';

const MiB = 1024 * 1024;

/** `words` words of `size` characters: one `output_text.delta` event (a little over `size` bytes) per word. */
export const bulkyText = (words: number, size: number) => Array.from({ length: words }, (_, i) => `${i}`.padEnd(size, 'x')).join(' ');

const message = (text: string) => ({
  type: 'agent.session.input.message' as const,
  input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text }] }],
});

/** Reads one turn's events off an open stream, leaving the stream open for the next. */
export async function nextTurn(events: AsyncIterator<AgentSessionEvent>): Promise<AgentSessionEvent[]> {
  const seen: AgentSessionEvent[] = [];
  let ended = false;
  for (;;) {
    const next = await events.next();
    if (next.done) throw new Error('the stream ended mid-turn');
    seen.push(next.value);
    if (next.value.type === 'agent.session.turn.completed' || next.value.type === 'agent.session.turn.failed') ended = true;
    if (ended && next.value.type === 'agent.session.idle') return seen;
  }
}

/** Opens an SSE request on a raw socket and never reads from it. */
export async function nonReader(url: string, token: string, sessionId: string, lastEventId?: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  socket.write(
    `GET /v1/agents/sessions/${sessionId}/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
      `Accept: text/event-stream\r\n${lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : ''}\r\n`,
  );
  return socket;
}

export interface StreamMemoryLoad {
  turns: number;
  /** Clients that open the live stream before the turns and never read. */
  live: number;
  /** Clients that ask for the whole history after the turns and never read. */
  replaying: number;
}

export interface StreamMemoryRun {
  /** The runtime's RSS before the turns, and its highest sample until two seconds after the last client opened. */
  beforeBytes: number;
  peakBytes: number;
  /** Turns that completed, read off one client that does read. */
  completed: number;
  sessionId: string;
}

/**
 * Drives the load against a runtime whose model answers `turns` times with 1 MB: one reading client follows the
 * session; `live` non-readers are connected throughout, `replaying` more join at the end. RSS is sampled every 50 ms.
 */
export async function streamMemoryRun(runtime: RuntimeProcess, load: StreamMemoryLoad): Promise<StreamMemoryRun> {
  const sockets: net.Socket[] = [];
  const sessions = new OpenAI({ apiKey: runtime.token, baseURL: `${runtime.url}/v1`, maxRetries: 3 }).beta.agents.sessions;
  const session = await sessions.create({ environment: { type: 'none' } });
  const stream = await sessions.events.stream(session.id);
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  try {
    const reader = stream[Symbol.asyncIterator]();
    for (let i = 0; i < load.live; i++) sockets.push(await nonReader(runtime.url, runtime.token, session.id));
    await delay(300);
    const beforeBytes = await runtime.rss();
    let peakBytes = beforeBytes;
    sampler = (async () => {
      while (sampling) {
        peakBytes = Math.max(peakBytes, await runtime.rss());
        await delay(50);
      }
    })();
    const events: AgentSessionEvent[] = [];
    for (let turn = 0; turn < load.turns; turn++) {
      await sessions.events.create(session.id, { events: [message(`turn ${turn}`)] });
      events.push(...(await nextTurn(reader)));
    }
    const first = events[0]?.event_id;
    for (let i = 0; i < load.replaying && first !== undefined; i++) sockets.push(await nonReader(runtime.url, runtime.token, session.id, first));
    await delay(2000);
    sampling = false;
    await sampler;
    return { sessionId: session.id, beforeBytes, peakBytes, completed: events.filter((e) => e.type === 'agent.session.turn.completed').length };
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    stream.controller.abort();
    for (const s of sockets) s.destroy();
  }
}

/** A runtime process with a fresh store (tmpfs when there is one: this is about memory, not the disk) and model. */
export async function startStreamRuntime(turns: number, srcDir = path.resolve(__dirname, '..', 'src')): Promise<{ runtime: RuntimeProcess; close(): Promise<void> }> {
  const model: ScriptedModel = await startScriptedModel(Array.from({ length: turns }, () => ({ text: bulkyText(1000, 1000) })));
  const dataDir = await fs.mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'deputy-streams-'));
  let runtime: RuntimeProcess;
  try {
    runtime = await startRuntimeProcess({ srcDir, dataDir, modelBaseURL: model.baseURL });
  } catch (err) {
    await model.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    runtime,
    async close() {
      await runtime.stop();
      await model.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

function side(label: string, load: StreamMemoryLoad): FigureSide<{ runtime: RuntimeProcess; close(): Promise<void> }> {
  return {
    label,
    setup: () => startStreamRuntime(load.turns),
    async measure({ runtime }) {
      const run = await streamMemoryRun(runtime, load);
      if (run.completed !== load.turns) throw new Error(`${label}: ${run.completed} of ${load.turns} turns completed`);
      return (run.peakBytes - run.beforeBytes) / MiB;
    },
    teardown: (r) => r.close(),
  };
}

export const streamMemory: Benchmark = {
  id: 'stream-memory',
  title: 'Memory: 50 streams that never read vs none, runtime RSS growth',
  async run(config, log): Promise<BenchmarkResult> {
    const turns = envInt('BENCH_STREAM_TURNS', 20, 1);
    const rounds = { warmup: 0, rounds: envInt('BENCH_LOAD_ROUNDS', 3, 1) };
    void config;
    log(`stream-memory: ${turns} turns of 1 MB, 50 + 50 non-reading streams vs none, ${rounds.rounds} rounds`);
    const comparison = await compareFigures(
      side('50 + 50 non-readers', { turns, live: 50, replaying: 50 }),
      side('no non-readers', { turns, live: 0, replaying: 0 }),
      rounds,
    );
    return {
      id: this.id,
      title: this.title,
      unit: 'MiB',
      figure: 'MiB',
      input: `one session, ${turns} turns each answered with 1 MB of text (1,000 \`output_text.delta\` events of 1 KB), ~${turns + 1} MB of events in all, one client reading the stream; runtime in its own process, store on tmpfs; ${rounds.rounds} rounds (\`BENCH_STREAM_TURNS\`, \`BENCH_LOAD_ROUNDS\`)`,
      ours: '50 clients holding the live stream open without reading from before the first turn, and 50 more asking for the whole history at the end without reading; the runtime\'s peak RSS growth over its size before the turns',
      reference: 'the same runtime, session and turns with no client but the reader; its peak RSS growth (the turns\' own garbage)',
      meaning:
        `peak resident memory growth, ours ÷ reference: ${formatRatio(comparison.ratio)} means the runtime grew ${comparison.ratio.toFixed(1)} times as much with the hundred non-readers as without them. ` +
        'Below 1× would be less; streams share the live frames and hold at most one replay page each, so the non-readers add a bounded amount (before that, the same load passed gigabytes).',
      verified: `every round, the reading client on both sides saw all ${turns} turns complete`,
      comparison,
    };
  },
};
