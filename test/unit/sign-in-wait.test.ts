/**
 * A session's credential requests wait for a sign-in instead of failing, and only a session's: a request outside any
 * session fails at once; a parked request wakes on a sign-in for its profile (not another's), on its session's Stop,
 * or at its deadline, never on a timer of its own; and a sign-in that does not help is not retried for ever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignInWait, type SignInNeed } from '../../src/core/sign-in-wait.js';

class NeedsSignIn extends Error {
  constructor(readonly profile: string) {
    super(`sign in to ${profile}`);
  }
}

function harness() {
  const log: string[] = [];
  const timers: Array<{ fn: () => void; ms: number; live: boolean }> = [];
  const wait = new SignInWait({
    signInNeeded: (err): SignInNeed | null => (err instanceof NeedsSignIn ? { profile: err.profile, reason: 'expired' } : null),
    maxWaitMs: 60_000,
    paused: (id, need) => log.push(`paused ${id} ${need.profile}`),
    resumed: (id, profile) => log.push(`resumed ${id} ${profile}`),
    setTimer: (fn, ms) => {
      const t = { fn, ms, live: true };
      timers.push(t);
      return { clear: () => void (t.live = false) };
    },
  });
  return { wait, log, timers };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a session request parks until its profile signs in, then resolves fresh credentials once', async () => {
  const { wait, log } = harness();
  let calls = 0;
  let valid = false;
  const provider = wait.wrap(async () => {
    calls++;
    if (!valid) throw new NeedsSignIn('dev');
    return 'fresh';
  });
  const stop = new AbortController();
  const got = wait.runForSession({ sessionId: 's1', stop: stop.signal }, () => provider());
  await tick();
  assert.deepEqual(log, ['paused s1 dev']);
  assert.equal(calls, 1, 'no polling while parked');
  wait.signedIn('other');
  await tick();
  assert.equal(calls, 1, 'another profile does not wake it');
  assert.deepEqual([...wait.waitingSessions()], ['s1']);
  valid = true;
  wait.signedIn('dev');
  assert.equal(await got, 'fresh');
  assert.equal(calls, 2);
  assert.deepEqual(log, ['paused s1 dev', 'resumed s1 dev']);
});

test('outside a session, or for another failure, the error is thrown at once', async () => {
  const { wait, log } = harness();
  const signIn = wait.wrap(async () => {
    throw new NeedsSignIn('dev');
  });
  await assert.rejects(signIn(), NeedsSignIn);
  const other = wait.wrap(async () => {
    throw new Error('network');
  });
  const stop = new AbortController();
  await assert.rejects(wait.runForSession({ sessionId: 's1', stop: stop.signal }, () => other()), /network/);
  assert.deepEqual(log, []);
});

test('Stop and the deadline end the wait with the sign-in error; three unhelpful sign-ins end it too', async () => {
  const { wait, timers } = harness();
  const provider = wait.wrap(async () => {
    throw new NeedsSignIn('dev');
  });
  const stop = new AbortController();
  const stopped = wait.runForSession({ sessionId: 's1', stop: stop.signal }, () => provider());
  await tick();
  stop.abort();
  await assert.rejects(stopped, NeedsSignIn);

  const late = wait.runForSession({ sessionId: 's2', stop: new AbortController().signal }, () => provider());
  await tick();
  const timer = timers.filter((t) => t.live).at(-1)!;
  assert.equal(timer.ms, 60_000);
  timer.fn();
  await assert.rejects(late, NeedsSignIn);

  const stubborn = wait.runForSession({ sessionId: 's3', stop: new AbortController().signal }, () => provider());
  for (let i = 0; i < 3; i++) {
    await tick();
    wait.signedIn('dev');
  }
  await assert.rejects(stubborn, NeedsSignIn);
  assert.equal(wait.waitingSessions().size, 0);
});
