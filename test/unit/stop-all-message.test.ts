/** What the editor's Stop All tells the person, from the server's answer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stopAllMessage } from '../../src/extension/stop-all-message.js';

const base = { stopped: 0, processes: 0, silent: 0, orphaned: 0, orphanedLate: 0, unreachable: [], elapsedMs: 1234 };

test('Stop All counts live and orphaned sessions together and says how many had lost their process', () => {
  const m = stopAllMessage({ ...base, stopped: 2, processes: 2, orphaned: 1 });
  assert.deepEqual(m, { text: 'Stopped 3 sessions (1 of them whose window or run was gone) in 1.2 s.', complete: true });
});

test('Stop All with nothing running says so', () => {
  assert.deepEqual(stopAllMessage({ ...base, processes: 1 }), { text: 'No session was running.', complete: true });
});

test('Stop All names what it could not stop, as a warning', () => {
  const m = stopAllMessage({ ...base, orphaned: 1, silent: 1, orphanedLate: 2, unreachable: [{ endpoint: 'Deputy runtime http://127.0.0.1:9', reason: 'connect ECONNREFUSED' }] });
  assert.equal(m.complete, false);
  assert.equal(
    m.text,
    'Stopped 1 session (1 of them whose window or run was gone) in 1.2 s. 1 Deputy process did not answer in time. 2 sessions whose process was gone had not stopped yet. Not reachable: Deputy runtime http://127.0.0.1:9 (connect ECONNREFUSED).',
  );
});
