import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { handleTermination, type SignalSource } from '../../src/cli/signals.js';

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const proc = {
    on: (e: string, l: () => void) => emitter.on(e, l),
    off: (e: string, l: () => void) => emitter.off(e, l),
    exit: (code: number) => {
      exits.push(code);
      return undefined as never;
    },
  } satisfies SignalSource;
  return { proc, exits, send: (s: 'SIGINT' | 'SIGTERM') => emitter.emit(s), listeners: () => emitter.listenerCount('SIGINT') + emitter.listenerCount('SIGTERM') };
}

test('the first signal asks the command to wind down; a second exits at once with its code', () => {
  for (const [first, second, code] of [
    ['SIGINT', 'SIGINT', 130],
    ['SIGTERM', 'SIGTERM', 143],
    ['SIGINT', 'SIGTERM', 143],
  ] as const) {
    const p = fakeProcess();
    const t = handleTermination(p.proc, { graceMs: 60_000 });
    assert.equal(t.signal.aborted, false);
    p.send(first);
    assert.equal(t.signal.aborted, true);
    assert.equal(t.received, first);
    assert.deepEqual(p.exits, [], 'the first signal does not exit');
    p.send(second);
    assert.deepEqual(p.exits, [code]);
    t.dispose();
    assert.equal(p.listeners(), 0);
  }
});

test('a command that does not wind down within the grace period is ended anyway', async () => {
  const p = fakeProcess();
  const t = handleTermination(p.proc, { graceMs: 5 });
  p.send('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(p.exits, [143]);
  t.dispose();
});

test('a command that winds down in time is not ended by the backstop', async () => {
  const p = fakeProcess();
  const t = handleTermination(p.proc, { graceMs: 20 });
  p.send('SIGINT');
  assert.equal(t.exitCode(), 130);
  t.dispose();
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(p.exits, []);
});
