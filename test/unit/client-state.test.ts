/**
 * What the extension keeps of the server's open questions (src/extension/client-state.ts): a server that stops
 * leaves nothing open behind it — prompts, changesets, and the Changes view's list — until the server says so again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientState, type Emitter } from '../../src/extension/client-state.js';
import type { EngineEvent } from '../../src/protocol/events.js';
import type { PendingChangeset } from '../../src/protocol/lsp.js';

/** VS Code's EventEmitter, as far as the state uses it. */
function emitter<T>(): Emitter<T> {
  const listeners = new Set<(e: T) => unknown>();
  return {
    event: (listener) => {
      listeners.add(listener);
      return { dispose: () => void listeners.delete(listener) };
    },
    fire: (e) => {
      for (const l of listeners) l(e);
    },
    dispose: () => listeners.clear(),
  };
}

const pending: PendingChangeset = {
  sessionId: 's1',
  changesetId: 'cs1',
  task: 'rename a thing',
  folder: 'ws',
  summary: 'Rename',
  round: 1,
  source: 'proposeChanges',
  files: [{ binding: 'b'.repeat(64), path: 'src/a.ts', state: 'ready', added: 1, removed: 1, decided: false }],
  deadline: '2026-12-01T00:15:00.000Z',
};

test("a server that stops takes its open questions with it, the Changes view's list too, and says so", () => {
  const state = new ClientState(emitter);
  state.setPending([pending]);
  const asked: EngineEvent = {
    type: 'prompt.asked',
    seq: 1,
    sessionId: 's1',
    at: '2026-12-01T00:00:00.000Z',
    binding: 'p'.repeat(64),
    callId: 'c1',
    tool: 'workspace_read',
    summary: 'read .env',
    args: {},
    reason: 'asks',
    deadline: '2026-12-01T00:15:00.000Z',
  };
  state.applyEvents('s1', [asked]);
  assert.equal(state.waiting(), 1);
  let told = 0;
  state.onPendingChanged(() => told++);

  state.reset();
  assert.deepEqual(state.pending, [], 'the Changes view lists nothing the stopped server asked');
  assert.equal(told, 1, 'and the view is told to draw again');
  assert.equal(state.waiting(), 0);

  state.reset();
  assert.equal(told, 1, 'an empty list is not redrawn for nothing');
  state.setPending([pending]);
  assert.deepEqual(state.pending, [pending], 'the new server lists it again when the session reattaches');
  state.dispose();
});
