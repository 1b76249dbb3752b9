/**
 * The session event log's live side: appends an event to the store (which gives it its place in the log) and,
 * once the commit holding it is durable, hands it to every open SSE stream of that session. Streams replay from
 * the store, then follow live, so a client that reconnects with `Last-Event-ID` sees each event exactly once.
 *
 * Every stream is bounded (see sse-stream.ts): replay goes a page at a time and waits for the socket to drain,
 * a live stream whose client stops reading is closed once it has `maxBufferedBytes` waiting, and each principal
 * may hold at most `maxStreamsPerPrincipal` streams at once.
 */
import type http from 'node:http';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { ApiError } from './http-util.js';
import { SseStream, sseFrames, type StreamLimits } from './sse-stream.js';
import type { RuntimeStore, StoredEvent } from './store.js';

export type { StreamLimits } from './sse-stream.js';

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxBufferedBytes: 512 * 1024,
  maxStreamsPerPrincipal: 256,
  replayPageSize: 256,
  closeGraceMs: 30_000,
};

interface Pending {
  /** The commit the event's row belongs to. */
  commit: number;
  sessionId: string;
  stored: StoredEvent;
}

export class EventHub {
  private readonly streams = new Map<string, Set<SseStream>>();
  private readonly perPrincipal = new Map<string, number>();
  /** Events stored but not yet durable, in log order. */
  private pending: Pending[] = [];
  /** Every event up to this seq is durable and has been published. */
  private publishedSeq: number;

  constructor(
    private readonly store: RuntimeStore,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {
    this.publishedSeq = store.lastEventSeq();
    store.commits.listen({
      durable: (upTo) => this.publishUpTo(upTo),
      lost: (commit) => {
        this.pending = this.pending.filter((p) => p.commit !== commit);
      },
    });
  }

  append(sessionId: string, event: AgentSessionEvent): void {
    const { seq, json } = this.store.appendEvent(sessionId, event);
    this.pending.push({ commit: this.store.commits.target, sessionId, stored: { seq, id: event.event_id, json } });
  }

  /** Runs `fn` atomically in the store; if it throws, none of its writes stay and none of its events go out. */
  atomically<T>(fn: () => T): T {
    const mark = this.pending.length;
    try {
      return this.store.transaction(fn);
    } catch (err) {
      this.pending.length = mark;
      throw err;
    }
  }

  /**
   * Serves a session's events as SSE: first every stored event after `afterSeq` (none when null: a fresh stream
   * starts at the present), then live ones. Refused with a 429 when the principal already has its maximum.
   */
  stream(principal: string, sessionId: string, afterSeq: number | null, res: http.ServerResponse): void {
    const open = this.perPrincipal.get(principal) ?? 0;
    if (open >= this.limits.maxStreamsPerPrincipal) {
      throw new ApiError(
        429,
        `Too many open event streams: this caller already has ${open}, the most the runtime allows at once. Close a stream you no longer read, then retry.`,
        'too_many_streams',
        null,
        'rate_limit_error',
      );
    }
    this.perPrincipal.set(principal, open + 1);
    let set = this.streams.get(sessionId);
    if (!set) this.streams.set(sessionId, (set = new Set()));
    const stream = new SseStream(res, this.limits, {
      replay: (after, limit) => this.store.eventsAfter(sessionId, after, this.publishedSeq, limit),
      publishedSeq: () => this.publishedSeq,
      closed: () => {
        const current = this.streams.get(sessionId);
        current?.delete(stream);
        if (current?.size === 0) this.streams.delete(sessionId);
        const left = (this.perPrincipal.get(principal) ?? 1) - 1;
        if (left > 0) this.perPrincipal.set(principal, left);
        else this.perPrincipal.delete(principal);
      },
    });
    set.add(stream);
    stream.start(afterSeq);
  }

  /** Ends every stream of a session (deleted) or of all sessions (shutdown). */
  end(sessionId?: string): void {
    const sets = sessionId ? [this.streams.get(sessionId)] : [...this.streams.values()];
    for (const set of sets) for (const stream of [...(set ?? [])]) stream.end();
  }

  private publishUpTo(commit: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.commit <= commit) n++;
    if (n === 0) return;
    const batch = this.pending.splice(0, n);
    this.publishedSeq = Math.max(this.publishedSeq, batch[batch.length - 1]!.stored.seq);
    // One write per stream per commit: a commit holds many text deltas of the same session.
    const bySession = new Map<string, StoredEvent[]>();
    for (const { sessionId, stored } of batch) {
      if (!this.streams.has(sessionId)) continue;
      let list = bySession.get(sessionId);
      if (!list) bySession.set(sessionId, (list = []));
      list.push(stored);
    }
    for (const [sessionId, events] of bySession) {
      const frames = sseFrames(events);
      for (const stream of [...(this.streams.get(sessionId) ?? [])]) stream.live(events, frames);
    }
  }
}
