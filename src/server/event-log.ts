/**
 * Each session's engine events, stamped (`seq`, `at`) and kept in order, so a panel that opens late, reloads, or
 * selects another session replays exactly what it missed. Events go to the client in one notification per session
 * per tick: a streaming agent makes many small deltas, and one message each would flood the pipe.
 */
import type { EngineEvent, EngineEventType, EngineEventOf } from '../protocol/events.js';

type WithoutEnvelope<E> = E extends unknown ? Omit<E, 'sessionId' | 'seq' | 'at'> : never;
/** An event as a producer writes it; the log adds the envelope. */
export type EventInput = WithoutEnvelope<EngineEvent>;
export type EventInputOf<T extends EngineEventType> = Omit<EngineEventOf<T>, 'sessionId' | 'seq' | 'at'>;

/** A session's log keeps at most this many events; the oldest deltas go first (their message's completion stays). */
const MAX_EVENTS = 20_000;

export class EventLog {
  private readonly logs = new Map<string, EngineEvent[]>();
  private readonly seqs = new Map<string, number>();
  private readonly outbox = new Map<string, EngineEvent[]>();
  private flushScheduled = false;

  constructor(private readonly send: (sessionId: string, events: EngineEvent[]) => void) {}

  emit(sessionId: string, input: EventInput): EngineEvent {
    const seq = (this.seqs.get(sessionId) ?? 0) + 1;
    this.seqs.set(sessionId, seq);
    const event = { ...input, sessionId, seq, at: new Date().toISOString() } as EngineEvent;
    let log = this.logs.get(sessionId);
    if (!log) this.logs.set(sessionId, (log = []));
    log.push(event);
    if (log.length > MAX_EVENTS) this.trim(log);
    let box = this.outbox.get(sessionId);
    if (!box) this.outbox.set(sessionId, (box = []));
    box.push(event);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return event;
  }

  after(sessionId: string, afterSeq: number): EngineEvent[] | undefined {
    return this.logs.get(sessionId)?.filter((e) => e.seq > afterSeq);
  }

  has(sessionId: string): boolean {
    return this.logs.has(sessionId);
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [sessionId, events] of this.outbox) this.send(sessionId, events);
    this.outbox.clear();
  }

  private trim(log: EngineEvent[]): void {
    const drop = log.findIndex((e) => e.type === 'message.delta');
    log.splice(drop >= 0 ? drop : 0, 1);
  }
}
