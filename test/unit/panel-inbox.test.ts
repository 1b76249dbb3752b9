/**
 * Messages from the panel: a refused answer (a binding Deputy never issued) is said in the panel, so its card stops
 * "Sending…" and the person can answer the still-open question again; nothing refused reaches the engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receiveFromPanel } from '../../src/extension/panel-inbox.js';
import type { FromWebview } from '../../src/protocol/webview.js';

function inbox() {
  const handled: FromWebview[] = [];
  const refused: string[] = [];
  const logged: string[] = [];
  return {
    handled,
    refused,
    logged,
    handle: async (m: FromWebview) => void handled.push(m),
    refuse: (text: string) => void refused.push(text),
    log: (line: string) => void logged.push(line),
  };
}

const binding = 'a'.repeat(64);

test('an answer with a binding Deputy never issued is refused in the panel, and nothing is sent on', () => {
  for (const wrong of ['not-a-binding', 'A'.repeat(64), `${binding}0`]) {
    const box = inbox();
    receiveFromPanel({ type: 'answerPrompt', sessionId: 'sess_1', binding: wrong, decision: 'allowOnce' }, box);
    assert.deepEqual(box.handled, [], wrong);
    assert.equal(box.refused.length, 1, `the person is told (${wrong})`);
    assert.match(box.refused[0]!, /refused that answer.*nothing was allowed.*still open/);
    assert.match(box.logged[0]!, /Refused a message from the panel/);
  }
});

test('a well-formed answer goes to the engine, and a failure to deliver it is said in the panel', async () => {
  const box = inbox();
  const answer = { type: 'answerPrompt', sessionId: 'sess_1', binding, decision: 'deny' };
  receiveFromPanel(answer, box);
  assert.deepEqual(box.handled, [answer]);
  assert.deepEqual(box.refused, []);

  const failing = { ...inbox(), handle: async () => Promise.reject(new Error('the server stopped')) };
  receiveFromPanel(answer, failing);
  await new Promise((r) => setImmediate(r));
  assert.match(failing.refused[0] ?? '', /could not do that: Error: the server stopped/);
});

test('any other message that fails its check is refused in the panel too', () => {
  const box = inbox();
  receiveFromPanel({ type: 'startTask', prompt: 42 }, box);
  assert.deepEqual(box.handled, []);
  assert.match(box.refused[0] ?? '', /refused a message from the panel/);
});
