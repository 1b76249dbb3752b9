/**
 * A running session whose credentials run out waits for a person to sign in again instead of failing: the
 * credential provider of its endpoint is wrapped so that a "sign-in required" failure parks the request that
 * needed credentials until a sign-in is reported, then resolves again. The request was never sent, so nothing
 * is lost and nothing is sent twice. There is no polling and no retry loop: a parked request wakes only on a
 * sign-in, its session's Stop, or its deadline, and gives up after a few sign-ins that did not help.
 *
 * Which session a request belongs to is carried by `AsyncLocalStorage` (set around a turn with `runForSession`):
 * the provider is shared by every session of a connection, and the `openai` client calls it without context.
 * A request outside any session (listing sessions, the cancel of a Stop) fails at once, as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface SessionScope {
  sessionId: string;
  /** The session's Stop: a parked request gives up at once when it fires. */
  stop: AbortSignal;
}

/** The facts of a sign-in failure that a person can fix by signing in. */
export interface SignInNeed {
  profile: string;
  reason: string;
}

export interface SignInWaitDeps {
  /** Recognises a "sign-in required" failure; null for any other (those are thrown on at once). */
  signInNeeded(err: unknown): SignInNeed | null;
  /** Longest one request stays parked. */
  maxWaitMs: number;
  /** A session started waiting for `need.profile` (told once per session per pause). */
  paused(sessionId: string, need: SignInNeed): void;
  /** A sign-in was reported and the session goes on. */
  resumed(sessionId: string, profile: string): void;
  setTimer?(fn: () => void, ms: number): { clear(): void };
}

/** Sign-ins a single request waits through before it fails: each must be a new sign-in, never a timer. */
const MAX_SIGN_INS_PER_REQUEST = 3;

interface Parked {
  sessionId: string;
  profile: string;
  wake(): void;
}

export class SignInWait {
  private readonly scope = new AsyncLocalStorage<SessionScope>();
  private readonly parked = new Set<Parked>();

  constructor(private readonly deps: SignInWaitDeps) {}

  /** Runs `fn` (a session's turn) so that credential requests made on its behalf know their session. */
  runForSession<T>(scope: SessionScope, fn: () => T): T {
    return this.scope.run(scope, fn);
  }

  /** Wraps a credential provider so a session's requests wait for a sign-in rather than fail. */
  wrap<T>(provider: () => Promise<T>): () => Promise<T> {
    return async () => {
      for (let signIns = 0; ; signIns++) {
        try {
          return await provider();
        } catch (err) {
          const need = this.deps.signInNeeded(err);
          const scope = this.scope.getStore();
          if (!need || !scope || scope.stop.aborted || signIns >= MAX_SIGN_INS_PER_REQUEST) throw err;
          await this.park(scope, need, err);
        }
      }
    };
  }

  /** A sign-in for `profile` succeeded: every request parked for it resolves its credentials again. */
  signedIn(profile: string): void {
    const woken = new Set<string>();
    for (const p of [...this.parked]) {
      if (p.profile !== profile) continue;
      p.wake();
      woken.add(p.sessionId);
    }
    for (const id of woken) this.deps.resumed(id, profile);
  }

  /** Sessions with a request parked now. */
  waitingSessions(): Set<string> {
    return new Set([...this.parked].map((p) => p.sessionId));
  }

  private park(scope: SessionScope, need: SignInNeed, err: unknown): Promise<void> {
    const first = ![...this.parked].some((p) => p.sessionId === scope.sessionId);
    return new Promise<void>((resolve, reject) => {
      const setTimer = this.deps.setTimer ?? ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref?.();
        return { clear: () => clearTimeout(t) };
      });
      const done = (fail: boolean) => {
        this.parked.delete(entry);
        timer.clear();
        scope.stop.removeEventListener('abort', onStop);
        if (fail) reject(err);
        else resolve();
      };
      const onStop = () => done(true);
      const entry: Parked = { sessionId: scope.sessionId, profile: need.profile, wake: () => done(false) };
      const timer = setTimer(() => done(true), this.deps.maxWaitMs);
      scope.stop.addEventListener('abort', onStop, { once: true });
      this.parked.add(entry);
      if (first) this.deps.paused(scope.sessionId, need);
    });
  }
}
