/**
 * The engine's event stream across dropped connections: a stream cut mid-flight is resumed with Last-Event-ID
 * and the consumer sees every event of the session exactly once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startRuntime } from '../../src/runtime/index.js';
import { followSession } from '../../src/agents/event-stream.js';
import { createAgentsClient } from '../../src/agents/endpoints.js';
import { startScriptedModel } from '../fixtures/model-server.js';
import { startFlakyProxy } from '../helpers/flaky-proxy.js';

/** Follows a session from now on, recording each event; `idleAfter(n)` resolves once n turns completed. */
function collector(client: OpenAI, sessionId: string, turns: number) {
  const seen: { id: string; type: string }[] = [];
  let reconnects = 0;
  let completed = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const stream = followSession(client, sessionId, { backoffMs: 10, onReconnect: () => reconnects++ });
  const done = (async () => {
    for await (const e of stream.events) {
      seen.push({ id: e.event_id, type: e.type });
      if (e.type === 'agent.session.turn.completed') completed++;
      if (e.type === 'agent.session.idle') {
        for (const w of waiters.filter((w) => completed >= w.n)) w.resolve();
        if (completed === turns) break;
      }
    }
  })();
  return {
    opened: stream.opened,
    done,
    seen,
    reconnects: () => reconnects,
    idleAfter: (n: number) => new Promise<void>((resolve) => (completed >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

test('followSession resumes a cut stream without losing or repeating events', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'deputy-rt-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  const model = await startScriptedModel([
    { text: 'First answer, long enough to make several deltas across the stream. '.repeat(20) },
    { text: 'Second answer, also long enough to be split into many deltas. '.repeat(20) },
  ]);
  t.after(() => model.close());
  const runtime = await startRuntime({ dataDir, upstream: { baseURL: model.baseURL, model: 'scripted', api: 'responses', maxRetries: 0 } });
  t.after(() => runtime.close());
  const proxy = await startFlakyProxy(new URL(runtime.url));
  t.after(() => proxy.close());

  const direct = createAgentsClient({ kind: 'runtime', baseURL: `${runtime.url}/v1`, token: runtime.token });
  const flaky = createAgentsClient({ kind: 'runtime', baseURL: `${proxy.url}/v1`, token: runtime.token }, { maxRetries: 0 });
  const session = await direct.beta.agents.sessions.create({ environment: { type: 'none' }, agent: { model: 'scripted' } });

  // The reference follows over a clean connection; the other through a proxy that cuts its first three streams.
  proxy.cutNext(3, 1500);
  const clean = collector(direct, session.id, 2);
  const cut = collector(flaky, session.id, 2);
  await Promise.all([clean.opened, cut.opened]);
  for (const [i, text] of ['one', 'two'].entries()) {
    await direct.beta.agents.sessions.events.create(session.id, {
      events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text }] }] }],
    });
    await Promise.all([clean.idleAfter(i + 1), cut.idleAfter(i + 1)]);
  }
  await Promise.all([clean.done, cut.done]);

  assert.ok(clean.seen.length > 20, `a long history (${clean.seen.length} events)`);
  assert.equal(clean.reconnects(), 0);
  assert.equal(proxy.cuts, 3);
  assert.ok(cut.reconnects() >= 3, `reconnected (${cut.reconnects()})`);
  assert.deepEqual(cut.seen, clean.seen);
  assert.equal(new Set(cut.seen.map((e) => e.id)).size, cut.seen.length, 'no event twice');
});
