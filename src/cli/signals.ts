/**
 * How `deputy` ends on SIGINT and SIGTERM, for every command alike. The first signal aborts the command's signal so
 * it can wind down (a task cancels its turn and closes its trail; `serve` drains and closes its store); a second
 * signal, or a command still running `graceMs` after the first, ends the process at once with the conventional
 * code (130 for SIGINT, 143 for SIGTERM). Nothing the engine is doing can keep the process alive past that.
 */

export type TerminationSignal = 'SIGINT' | 'SIGTERM';

export const EXIT_CODES: Record<TerminationSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** How long a command may take to wind down after the first signal before the process exits anyway. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 15_000;

/** The part of `process` this module uses, so tests can hand it a stand-in. */
export interface SignalSource {
  on(event: TerminationSignal, listener: () => void): unknown;
  off(event: TerminationSignal, listener: () => void): unknown;
  exit(code: number): never;
}

export interface Termination {
  /** Aborted on the first signal. */
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: TerminationSignal | undefined;
  /** The exit code for a command that ended because of the signal (130 / 143). */
  exitCode(): number | undefined;
  /** Stops listening (the command is done); a pending grace timer is cleared. */
  dispose(): void;
}

export function handleTermination(
  proc: SignalSource,
  options: { graceMs?: number; onFirst?: (signal: TerminationSignal) => void } = {},
): Termination {
  const controller = new AbortController();
  let received: TerminationSignal | undefined;
  let timer: NodeJS.Timeout | undefined;
  const listeners = new Map<TerminationSignal, () => void>();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    const listener = () => {
      if (received) proc.exit(EXIT_CODES[name]);
      received = name;
      options.onFirst?.(name);
      controller.abort();
      // A backstop, not the plan: the command is expected to finish well before this.
      timer = setTimeout(() => proc.exit(EXIT_CODES[name]), options.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      timer.unref();
    };
    listeners.set(name, listener);
    proc.on(name, listener);
  }
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    exitCode: () => (received ? EXIT_CODES[received] : undefined),
    dispose() {
      if (timer) clearTimeout(timer);
      for (const [name, listener] of listeners) proc.off(name, listener);
    },
  };
}
