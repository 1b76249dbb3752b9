/**
 * The session event log's live side: appends an event to the store (which gives it its place in the log) and
 * hands it to every open SSE stream of that session. Streams replay from the store, then follow live, so a
 * client that reconnects with `Last-Event-ID` sees each event exactly once.
 */
import type http from 'node:http';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import type { RuntimeStore, StoredEvent } from './store.js';

/** Comment lines keep idle connections (and proxies in between) from timing out. */
const HEARTBEAT_MS = 15_000;

interface Subscriber {
  /** Highest seq written to this subscriber; guards against a replay/live overlap. */
  lastSeq: number;
  res: http.ServerResponse;
}

export class EventHub {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  /** Events appended inside a transaction, published once it commits. */
  private held: { sessionId: string; stored: StoredEvent }[] | null = null;

  constructor(private readonly store: RuntimeStore) {}

  append(sessionId: string, event: AgentSessionEvent): void {
    const seq = this.store.appendEvent(sessionId, event);
    const stored = { seq, event };
    if (this.held) this.held.push({ sessionId, stored });
    else this.publish(sessionId, stored);
  }

  /** Runs `fn` as one store transaction; its events reach subscribers only after the commit. */
  atomically<T>(fn: () => T): T {
    if (this.held) return fn();
    this.held = [];
    let result: T;
    try {
      result = this.store.transaction(fn);
    } catch (err) {
      this.held = null;
      throw err;
    }
    const held = this.held;
    this.held = null;
    for (const { sessionId, stored } of held) this.publish(sessionId, stored);
    return result;
  }

  /**
   * Serves a session's events as SSE: first every stored event after `afterSeq` (none when null: a fresh
   * stream starts at the present), then live ones. Store reads and subscription happen in one synchronous
   * step, so no event can fall between them.
   */
  stream(sessionId: string, afterSeq: number | null, res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': deputy runtime event stream\n\n');
    const sub: Subscriber = { lastSeq: afterSeq ?? this.store.lastEventSeq(sessionId), res };
    if (afterSeq !== null) {
      for (const stored of this.store.eventsAfter(sessionId, afterSeq)) write(sub, stored);
    }
    let set = this.subscribers.get(sessionId);
    if (!set) this.subscribers.set(sessionId, (set = new Set()));
    set.add(sub);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      const current = this.subscribers.get(sessionId);
      current?.delete(sub);
      if (current?.size === 0) this.subscribers.delete(sessionId);
    });
  }

  /** Ends every stream of a session (deleted) or of all sessions (shutdown). */
  end(sessionId?: string): void {
    const sets = sessionId ? [this.subscribers.get(sessionId)] : [...this.subscribers.values()];
    for (const set of sets) for (const sub of set ?? []) sub.res.end();
  }

  private publish(sessionId: string, stored: StoredEvent): void {
    for (const sub of this.subscribers.get(sessionId) ?? []) write(sub, stored);
  }
}

function write(sub: Subscriber, stored: StoredEvent): void {
  if (stored.seq <= sub.lastSeq) return;
  sub.lastSeq = stored.seq;
  sub.res.write(`id: ${stored.event.event_id}\ndata: ${JSON.stringify(stored.event)}\n\n`);
}
