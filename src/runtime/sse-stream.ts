/**
 * One client's SSE stream of a session's events, with bounded memory whatever the client does:
 * - replay (after `Last-Event-ID`) reads the store a page at a time and waits for the socket to drain between
 *   pages, so a client that reads slowly, or not at all, holds one page, never the whole history;
 * - live events are written as they are published; a client that has more than `maxBufferedBytes` still waiting
 *   when the next events come is closed, with a last SSE comment saying why and which event to resume after (`Last-Event-ID`); the
 *   connection is dropped outright if it still has not taken its data a while later.
 * Each event's JSON is the string the store holds, serialized once.
 */
import type http from 'node:http';
import type { StoredEvent } from './store.js';

export interface StreamLimits {
  /** Bytes a live stream may have waiting for its client before it is closed. */
  maxBufferedBytes: number;
  /** Open streams per principal; the next one is refused with a 429. */
  maxStreamsPerPrincipal: number;
  /** Events read from the store per replay page. */
  replayPageSize: number;
  /** How long a closed slow client gets to read what is still buffered before its connection is dropped. */
  closeGraceMs: number;
}

/** What a stream needs from its hub. */
export interface StreamSource {
  /** Up to `limit` published events of the session after `afterSeq`. */
  replay(afterSeq: number, limit: number): StoredEvent[];
  /** The newest published seq: a fresh stream starts after it. */
  publishedSeq(): number;
  /** Called once when the stream is over. */
  closed(): void;
}

/** Comment lines keep idle connections (and proxies in between) from timing out. */
const HEARTBEAT_MS = 15_000;

export class SseStream {
  private mode: 'replay' | 'live' | 'closed' = 'replay';
  private lastSeq = 0;
  private lastId: string | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private finished = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly limits: StreamLimits,
    private readonly source: StreamSource,
  ) {}

  /** Sends the headers, then replays after `afterSeq` or, when null, starts live at the present. */
  start(afterSeq: number | null): void {
    const res = this.res;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': deputy runtime event stream\n\n');
    this.heartbeat = setInterval(() => {
      if (res.writableLength === 0) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    res.on('close', () => this.finish());
    if (afterSeq === null) {
      this.lastSeq = this.source.publishedSeq();
      this.mode = 'live';
      return;
    }
    this.lastSeq = afterSeq;
    void this.replay();
  }

  /**
   * Newly published events of the session, in order, with their SSE frames as one buffer that every stream of the
   * session shares (a socket keeps a reference to a Buffer it could not send yet; it copies a string). Ignored
   * while replaying: the replay reads them from the store.
   */
  live(events: readonly StoredEvent[], frames: Buffer): void {
    if (this.mode !== 'live') return;
    const fresh = events[0]!.seq > this.lastSeq ? events : events.filter((e) => e.seq > this.lastSeq);
    if (fresh.length === 0) return;
    // Judged on what earlier writes left waiting, not on this batch: a commit can carry many events at once, and a
    // client that keeps reading must not be closed for the size of one burst.
    if (this.res.writableLength > this.limits.maxBufferedBytes) this.closeSlow();
    else this.write(fresh, fresh === events ? frames : undefined);
  }

  /** Ends the stream (the session was deleted, or the runtime is stopping). */
  end(): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.res.end();
    this.finish();
  }

  private async replay(): Promise<void> {
    while (this.mode === 'replay') {
      const page = this.source.replay(this.lastSeq, this.limits.replayPageSize);
      if (page.length > 0) this.write(page);
      if (page.length < this.limits.replayPageSize) {
        // Caught up with everything published, in the same synchronous step: from here on, live events follow.
        this.mode = 'live';
        return;
      }
      if (this.res.writableNeedDrain) await this.drained();
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  private write(events: readonly StoredEvent[], frames = sseFrames(events)): void {
    const last = events[events.length - 1]!;
    this.lastSeq = last.seq;
    this.lastId = last.id;
    this.res.write(frames);
  }

  private closeSlow(): void {
    const waiting = this.res.writableLength;
    this.mode = 'closed';
    const resume = this.lastId ? `Last-Event-ID: ${this.lastId}` : 'Last-Event-ID set to the last event id you received';
    this.res.end(
      `: closed: this client read too slowly (${waiting} bytes were waiting; the limit is ${this.limits.maxBufferedBytes}). ` +
        `Reconnect with ${resume} to resume.\n\n`,
    );
    const drop = setTimeout(() => this.res.destroy(), this.limits.closeGraceMs);
    drop.unref();
    this.res.once('close', () => clearTimeout(drop));
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.mode = 'closed';
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.source.closed();
  }
}

/** Events as SSE: `id:` (what a client resumes after, as `Last-Event-ID`) and one `data:` line of JSON each. */
export function sseFrames(events: readonly StoredEvent[]): Buffer {
  let text = '';
  for (const e of events) text += `id: ${e.id}\ndata: ${e.json}\n\n`;
  return Buffer.from(text);
}
