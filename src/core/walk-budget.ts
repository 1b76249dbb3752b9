/**
 * The budget of one workspace walk (`workspace_list`, `workspace_search`): how many entries it may visit, how many
 * bytes it may read and for how long it may run, and whether the task was cancelled under it. The model chooses
 * the path, the glob and the query, so nothing it chooses may keep the engine busy without end: when a limit is
 * reached the walk stops and its result says so, with what to change (the `stopped` field the agent reads).
 */
import type { WalkStop } from '../protocol/tools.js';
import { formatBytes } from './workspace-text.js';

export interface WalkLimits {
  /** Files and folders looked at, whether or not they match. */
  maxEntries: number;
  /** File content read (search). */
  maxBytes: number;
  /** Time the walk may take, in milliseconds. */
  maxMillis: number;
}

/** Enough for a large monorepo's source tree; a walk past these is better narrowed by the agent. */
export const DEFAULT_WALK_LIMITS: WalkLimits = {
  maxEntries: 100_000,
  maxBytes: 256 * 1024 * 1024,
  maxMillis: 20_000,
};

export interface WalkOptions {
  /** Aborting stops the walk at the next entry (a cancelled task, Ctrl-C). */
  signal?: AbortSignal;
  limits?: Partial<WalkLimits>;
  /** Milliseconds clock, for the time budget. */
  now?: () => number;
}

export class WalkBudget {
  visited = 0;
  bytesRead = 0;
  private readonly limits: WalkLimits;
  private readonly now: () => number;
  private readonly deadline: number;
  private stop: WalkStop['reason'] | undefined;

  constructor(private readonly options: WalkOptions = {}) {
    this.limits = { ...DEFAULT_WALK_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.deadline = this.now() + this.limits.maxMillis;
  }

  /** Why the walk stopped, once it has. */
  get stopped(): WalkStop['reason'] | undefined {
    return this.stop;
  }

  /** Counts one entry about to be looked at; false when the walk must stop instead. */
  enter(): boolean {
    if (!this.check()) return false;
    if (this.visited >= this.limits.maxEntries) return this.halt('entries');
    this.visited++;
    return true;
  }

  /** Whether a file of `size` bytes may still be read; counts it when so. */
  read(size: number): boolean {
    if (!this.check()) return false;
    if (this.bytesRead + size > this.limits.maxBytes) return this.halt('bytes');
    this.bytesRead += size;
    return true;
  }

  /** False once cancelled or out of time. */
  check(): boolean {
    if (this.stop) return false;
    if (this.options.signal?.aborted) return this.halt('cancelled');
    if (this.now() > this.deadline) return this.halt('time');
    return true;
  }

  /** What the agent is told, when the walk stopped early. */
  report(): WalkStop | undefined {
    const reason = this.stop;
    if (!reason) return undefined;
    const files = `${this.visited} ${this.visited === 1 ? 'entry' : 'entries'}`;
    const message = {
      entries: `Stopped after ${files}, the most one call may visit; narrow the path or the glob.`,
      bytes: `Stopped after reading ${formatBytes(this.bytesRead)} in ${files}, the most one search may read; narrow the glob.`,
      time: `Stopped after ${seconds(this.limits.maxMillis)} s and ${files}, the longest one call may take; narrow the path or the glob.`,
      cancelled: `Cancelled after ${files}: the task was stopped.`,
    }[reason];
    return { reason, visited: this.visited, message };
  }

  private halt(reason: WalkStop['reason']): false {
    this.stop = reason;
    return false;
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}
