/**
 * A question to a person with a deadline and a way to take it back. Whatever the prompter does, the engine gets an
 * outcome: the answer, or a withdrawal when the deadline passes or the caller's signal aborts (the turn stopped).
 * A withdrawal aborts the signal the prompter was given (its reason says why), so it stops asking; an answer it gives
 * after that is ignored (the race is already settled), so a late "yes" can never approve anything.
 */
import type { PromptWithdrawalReason } from '../protocol/events.js';

export type Withdrawal = Extract<PromptWithdrawalReason, 'timedOut' | 'sessionStopped'>;

export type Asked<T> = { answer: T } | { withdrawn: Withdrawal };

export interface AskWithinOptions {
  /** Aborts when the turn stops: the question is withdrawn. */
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

export function askWithin<T>(ask: (signal: AbortSignal) => Promise<T>, options: AskWithinOptions): Promise<Asked<T>> {
  const withdraw = new AbortController();
  return new Promise<Asked<T>>((resolve) => {
    let settled = false;
    const finish = (outcome: Asked<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onStop);
      if ('withdrawn' in outcome) withdraw.abort(outcome.withdrawn);
      resolve(outcome);
    };
    const onStop = () => finish({ withdrawn: 'sessionStopped' });
    const timer = setTimeout(() => finish({ withdrawn: 'timedOut' }), options.timeoutMs);
    // The question alone must not keep a process alive that has nothing else to do.
    timer.unref();
    if (options.signal?.aborted) {
      onStop();
      return;
    }
    options.signal?.addEventListener('abort', onStop, { once: true });
    ask(withdraw.signal).then(
      (answer) => finish({ answer }),
      // A prompter that fails has not approved anything: the question closes as if the turn stopped.
      () => finish({ withdrawn: 'sessionStopped' }),
    );
  });
}

/** Why the question behind `signal` was withdrawn (the abort reason `askWithin` gives), for a prompter to say so. */
export function withdrawalOf(signal: AbortSignal): Withdrawal {
  return signal.reason === 'timedOut' ? 'timedOut' : 'sessionStopped';
}

/**
 * `askWithin` for a question that tells the person its deadline: the deadline is fixed before the question is put, so
 * what is reported (and recorded) before asking names the same moment the question closes.
 */
export function askByDeadline<T>(
  put: (signal: AbortSignal, deadline: string) => Promise<T>,
  options: AskWithinOptions & { deadline?: string },
): Promise<Asked<T>> {
  const deadline = options.deadline ?? deadlineIn(options.timeoutMs);
  return askWithin((signal) => put(signal, deadline), options);
}

/** The deadline of a question asked now that waits `timeoutMs`, as ISO 8601 UTC. */
export function deadlineIn(timeoutMs: number): string {
  return new Date(Date.now() + timeoutMs).toISOString();
}
