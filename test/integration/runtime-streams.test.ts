/**
 * Event streams under clients that misbehave: a slow client is closed with a reason naming where to resume and
 * loses nothing when it does; a caller holding too many streams gets a 429 in the OpenAI error shape; and fifty
 * clients that never read (live, and replaying a long history) keep the runtime's memory within a bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { startRuntimeProcess } from '../../bench/runtime-process.js';
import { startHarness } from '../fixtures/model-runtime-harness.js';
import { startScriptedModel } from '../fixtures/model-server.js';

/** `words` words of `size` characters: one `output_text.delta` event (a little over `size` bytes) per word. */
const bulkyText = (words: number, size: number) => Array.from({ length: words }, (_, i) => `${i}`.padEnd(size, 'x')).join(' ');

const message = (text: string) => ({
  type: 'agent.session.input.message' as const,
  input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text }] }],
});

/** Reads one turn's events off an open stream, leaving the stream open for the next. */
async function nextTurn(events: AsyncIterator<AgentSessionEvent>): Promise<AgentSessionEvent[]> {
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

test('fifty clients that never read, live and replaying a long history, keep the runtime within a memory bound', async (t) => {
  const MB = 1024 * 1024;
  const TURNS = 20;
  // ~21 MB of events in all, as twenty 1 MB answers (one large message would measure the message, not the streams).
  const model = await startScriptedModel(Array.from({ length: TURNS }, () => ({ text: bulkyText(1000, 1000) })));
  t.after(() => model.close());
  // tmpfs when there is one: this is about memory, not the disk.
  const dataDir = await fs.mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'deputy-streams-'));
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  const runtime = await startRuntimeProcess({ srcDir: path.resolve(__dirname, '..', '..', 'src'), dataDir, modelBaseURL: model.baseURL });
  t.after(() => runtime.stop());
  const sockets: net.Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));

  const sessions = new OpenAI({ apiKey: runtime.token, baseURL: `${runtime.url}/v1`, maxRetries: 3 }).beta.agents.sessions;
  const session = await sessions.create({ environment: { type: 'none' } });
  const stream = await sessions.events.stream(session.id);
  t.after(() => stream.controller.abort());
  const reader = stream[Symbol.asyncIterator]();
  for (let i = 0; i < 50; i++) sockets.push(await nonReader(runtime.url, runtime.token, session.id));
  await delay(300);
  const before = await runtime.rss();
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await runtime.rss());
      await delay(50);
    }
  })();
  t.after(async () => {
    sampling = false;
    await sampler.catch(() => undefined);
  });

  // Live: twenty turns stream ~21 MB of events to fifty sockets nobody reads.
  const events: AgentSessionEvent[] = [];
  for (let turn = 0; turn < TURNS; turn++) {
    await sessions.events.create(session.id, { events: [message(`turn ${turn}`)] });
    events.push(...(await nextTurn(reader)));
  }
  assert.equal(events.filter((e) => e.type === 'agent.session.turn.completed').length, TURNS);
  // Replay: fifty more ask for the whole history and never read it.
  for (let i = 0; i < 50; i++) sockets.push(await nonReader(runtime.url, runtime.token, session.id, events[0]!.event_id));
  await delay(2000);
  sampling = false;
  await sampler;

  const grew = (peak - before) / MB;
  t.diagnostic(`runtime RSS ${Math.round(before / MB)} MB before, peak ${Math.round(peak / MB)} MB (+${Math.round(grew)} MB)`);
  // The turns alone grow the heap by about 200 MB (garbage not yet collected); every stream shares the live
  // frames and holds at most one replay page. Without these bounds the same load reaches gigabytes.
  assert.ok(grew < 350, `the runtime grew by ${Math.round(grew)} MB`);
  // And the runtime still answers.
  assert.equal((await sessions.retrieve(session.id)).status, 'idle');
});
