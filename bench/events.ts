/**
 * Event throughput from the Deputy runtime through the engine's reconnecting stream (`followSession`) against a
 * bare `openai` stream (`sessions.events.stream`) reading the same stored history from the same runtime.
 *
 * Setup (untimed): the runtime runs one turn against the scripted upstream model whose answer is a long text;
 * the model fixture streams one delta per word, and the runtime turns each into an
 * `agent.session.turn.output_text.delta` event, so the session holds thousands of events. A live stream opened
 * before the input records every event id. Timed: replaying that history from its first event (Last-Event-ID) to
 * its last. Both sides share the server, the SQLite store and the HTTP stack; the difference is the engine's
 * per-event work (id de-duplication window, reconnect bookkeeping, the async generator layer).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { createAgentsClient } from '../src/agents/endpoints.js';
import { followSession } from '../src/agents/event-stream.js';
import { startRuntime } from '../src/runtime/index.js';
import { startScriptedModel } from '../test/fixtures/model-server.js';
import { shareInWords, type Benchmark, type BenchConfig, type BenchmarkResult } from './benchmark.js';
import { formatRatio } from './report.js';
import { compare, type Side } from './measure.js';

/** A text of `words` words; the model fixture sends one `output_text.delta` per word. */
function longText(words: number): string {
  const vocabulary = ['the', 'handler', 'reads', 'each', 'request', 'and', 'returns', 'a', 'typed', 'result', 'so', 'callers', 'never', 'parse', 'twice'];
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(`${vocabulary[i % vocabulary.length]}${i % 50 === 49 ? '.\n' : ''}`);
  return out.join(' ');
}

/** The history to replay: resume after `firstId`, and expect `count` events ending with `lastId`. */
interface History {
  sessionId: string;
  firstId: string;
  lastId: string;
  count: number;
  deltas: number;
}

/** Runs one turn and records, from a stream opened before the input, every event id up to the idle after it. */
async function recordTurn(client: OpenAI, sessionId: string, prompt: string): Promise<AgentSessionEvent[]> {
  const live = await client.beta.agents.sessions.events.stream(sessionId);
  await client.beta.agents.sessions.events.create(sessionId, {
    events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text: prompt }] }] }],
  });
  const seen: AgentSessionEvent[] = [];
  let completed = false;
  for await (const event of live) {
    seen.push(event);
    if (event.type === 'agent.session.turn.failed' || event.type === 'agent.session.failed') {
      throw new Error(`The runtime's turn failed while building the benchmark session: ${JSON.stringify(event).slice(0, 400)}`);
    }
    if (event.type === 'agent.session.turn.completed') completed = true;
    if (completed && event.type === 'agent.session.idle') break;
  }
  if (!completed) throw new Error('The runtime closed the event stream before the benchmark turn completed.');
  return seen;
}

/** Reads `history` with `next` until its last event and checks it ended where it should. */
async function drain(events: AsyncIterable<AgentSessionEvent>, history: History, who: string): Promise<number> {
  let count = 0;
  let last = '';
  for await (const event of events) {
    count++;
    last = event.event_id;
    if (count === history.count) break;
  }
  if (count !== history.count || last !== history.lastId) {
    throw new Error(`${who} saw ${count} events ending at ${last}; the history has ${history.count} ending at ${history.lastId}.`);
  }
  return count;
}

export const eventStream: Benchmark = {
  id: 'events',
  title: 'Events/s: runtime → followSession vs bare openai stream',
  async run(config: BenchConfig, log): Promise<BenchmarkResult> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'deputy-bench-runtime-'));
    const model = await startScriptedModel([{ text: longText(config.events) }]);
    const runtime = await startRuntime({ dataDir, upstream: { baseURL: model.baseURL, model: 'scripted', api: 'responses' } });
    try {
      const client = createAgentsClient({ kind: 'runtime', baseURL: `${runtime.url}/v1`, token: runtime.token }, { maxRetries: 0 });
      const session = await client.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { model: 'scripted' } });
      log(`events: running a ${config.events}-word turn through the runtime (untimed)`);
      const seen = await recordTurn(client, session.id, 'Write the long answer.');
      const history: History = {
        sessionId: session.id,
        firstId: seen[0]!.event_id,
        lastId: seen[seen.length - 1]!.event_id,
        // Replay starts after the first recorded event.
        count: seen.length - 1,
        deltas: seen.filter((e) => e.type === 'agent.session.turn.output_text.delta').length,
      };
      if (history.deltas < config.events) {
        throw new Error(`The session has ${history.deltas} text deltas, fewer than the ${config.events} words sent; the benchmark would not measure what it says.`);
      }

      const ours: Side<History> = {
        label: 'followSession',
        setup: async () => history,
        run: (h) => drain(followSession(client, h.sessionId, { lastEventId: h.firstId }).events, h, 'followSession'),
      };
      const reference: Side<History> = {
        label: 'sessions.events.stream',
        setup: async () => history,
        run: async (h) =>
          drain(
            await client.beta.agents.sessions.events.stream(h.sessionId, undefined, { headers: { 'Last-Event-ID': h.firstId } }),
            h,
            'sessions.events.stream',
          ),
      };
      log(`events: replaying ${history.count} events, ${config.warmup} warm-up + ${config.rounds} timed rounds`);
      const comparison = await compare(ours, reference, config);
      return {
        id: this.id,
        title: this.title,
        unit: 'events',
        input: `one session's stored history of ${history.count.toLocaleString('en-US')} events (${history.deltas.toLocaleString('en-US')} \`output_text.delta\`) from the runtime on loopback`,
        ours: '`followSession(client, id, { lastEventId })` from `src/agents/event-stream.ts`, iterated to the last event',
        reference: '`client.beta.agents.sessions.events.stream(id)` with the same `Last-Event-ID`, iterated to the last event',
        meaning: `events delivered per second, ours ÷ reference: ${formatRatio(comparison.ratio)} means the engine's stream hands the consumer ${shareInWords(comparison.ratio)} events per second as the bare \`openai\` stream reading the same history from the same server. 1.0× would mean its reconnect and de-duplication layer costs nothing measurable; both sides share the in-process server, so round-to-round spread is wide and only a gap well beyond it means much.`,
        verified: `both sides see exactly ${history.count.toLocaleString('en-US')} events every round and stop on the same last \`event_id\``,
        comparison,
      };
    } finally {
      await runtime.close();
      await model.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  },
};
