/**
 * The runtime's durable state in embedded SQLite (the WASM build: no native addon), at `<dataDir>/runtime.db`:
 * sessions, turns, items, events and idempotency keys. Every call is synchronous, so a sequence of store
 * calls made without an `await` in between is atomic with respect to other requests.
 */
import { Database } from 'node-sqlite3-wasm';
import { randomBytes } from 'node:crypto';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import type { RuntimeItem, SessionStatus, StoredSession, StoredTurn } from './wire.js';
import { redactStrings, type KnownSecrets } from '../core/redact.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  principal TEXT NOT NULL,
  status TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_principal ON sessions(principal, deleted, seq);
CREATE TABLE IF NOT EXISTS turns (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  session_id TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_session ON items(session_id, seq);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  session_id TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events(session_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (
  session_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  PRIMARY KEY (session_id, key)
);
`;

export interface PageQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** A stored event: the wire event plus its position in the session's log. */
export interface StoredEvent {
  seq: number;
  event: AgentSessionEvent;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export class RuntimeStore {
  private constructor(
    private readonly db: Database,
    private readonly known: KnownSecrets | undefined,
  ) {}

  /**
   * `known`: the runtime's own secrets (its token, the model's API key). Every body written is first cleared of them
   * and of recognisable credential formats (`redactStrings`): the store, and so the conversation the model is sent
   * back, never holds a credential.
   */
  static open(file: string, options: { known?: KnownSecrets } = {}): RuntimeStore {
    const db = new Database(file);
    db.exec(SCHEMA);
    return new RuntimeStore(db, options.known);
  }

  private body(value: unknown): string {
    return JSON.stringify(redactStrings(value, this.known));
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Runs `fn` in one SQLite transaction: either all of its writes land or none do. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  insertSession(s: StoredSession): void {
    this.db.run('INSERT INTO sessions (id, principal, status, body) VALUES (?, ?, ?, ?)', [
      s.id,
      s.principal,
      s.status,
      this.body(s),
    ]);
  }

  saveSession(s: StoredSession): void {
    this.db.run('UPDATE sessions SET status = ?, body = ? WHERE id = ?', [s.status, this.body(s), s.id]);
  }

  /** The session, unless it does not exist or was deleted. */
  getSession(id: string): StoredSession | null {
    const row = this.db.get('SELECT body FROM sessions WHERE id = ? AND deleted = 0', [id]);
    return row ? (JSON.parse(row.body as string) as StoredSession) : null;
  }

  markDeleted(id: string): void {
    this.db.run('UPDATE sessions SET deleted = 1 WHERE id = ?', [id]);
  }

  sessionsWithStatus(status: SessionStatus): StoredSession[] {
    return this.db
      .all('SELECT body FROM sessions WHERE status = ? AND deleted = 0 ORDER BY seq', [status])
      .map((r) => JSON.parse(r.body as string) as StoredSession);
  }

  listSessions(principal: string, query: PageQuery, metadata: Record<string, string>): Page<StoredSession> {
    const rows = this.db.all(
      `SELECT seq, body FROM sessions WHERE principal = ? AND deleted = 0 ORDER BY seq ${query.order === 'asc' ? 'ASC' : 'DESC'}`,
      [principal],
    );
    const all = rows
      .map((r) => ({ seq: r.seq as number, session: JSON.parse(r.body as string) as StoredSession }))
      .filter(({ session }) => Object.entries(metadata).every(([k, v]) => session.metadata[k] === v));
    return pageAfter(all, (x) => x.session.id, query, (x) => x.session);
  }

  insertTurn(t: StoredTurn): void {
    this.db.run('INSERT INTO turns (id, session_id, body) VALUES (?, ?, ?)', [t.id, t.sessionId, this.body(t)]);
  }

  saveTurn(t: StoredTurn): void {
    this.db.run('UPDATE turns SET body = ? WHERE id = ?', [this.body(t), t.id]);
  }

  getTurn(id: string): StoredTurn | null {
    const row = this.db.get('SELECT body FROM turns WHERE id = ?', [id]);
    return row ? (JSON.parse(row.body as string) as StoredTurn) : null;
  }

  appendItem(sessionId: string, item: RuntimeItem & { id: string }): void {
    this.db.run('INSERT INTO items (id, session_id, body) VALUES (?, ?, ?)', [item.id, sessionId, this.body(item)]);
  }

  saveItem(item: RuntimeItem & { id: string }): void {
    this.db.run('UPDATE items SET body = ? WHERE id = ?', [this.body(item), item.id]);
  }

  getItem(id: string): RuntimeItem | null {
    const row = this.db.get('SELECT body FROM items WHERE id = ?', [id]);
    return row ? (JSON.parse(row.body as string) as RuntimeItem) : null;
  }

  /** Every item of the session, oldest first: the conversation the model sees. */
  allItems(sessionId: string): RuntimeItem[] {
    return this.db
      .all('SELECT body FROM items WHERE session_id = ? ORDER BY seq', [sessionId])
      .map((r) => JSON.parse(r.body as string) as RuntimeItem);
  }

  listItems(sessionId: string, query: PageQuery): Page<RuntimeItem> {
    const rows = this.db.all(
      `SELECT body FROM items WHERE session_id = ? ORDER BY seq ${query.order === 'asc' ? 'ASC' : 'DESC'}`,
      [sessionId],
    );
    const items = rows.map((r) => JSON.parse(r.body as string) as RuntimeItem);
    return pageAfter(items, (i) => i.id ?? '', query, (i) => i);
  }

  appendEvent(sessionId: string, event: AgentSessionEvent): number {
    const result = this.db.run('INSERT INTO events (id, session_id, body) VALUES (?, ?, ?)', [
      event.event_id,
      sessionId,
      this.body(event),
    ]);
    return Number(result.lastInsertRowid);
  }

  /** Where an event sits in the session's log, or null when the session has no such event. */
  eventSeq(sessionId: string, eventId: string): number | null {
    const row = this.db.get('SELECT seq FROM events WHERE id = ? AND session_id = ?', [eventId, sessionId]);
    return row ? (row.seq as number) : null;
  }

  eventsAfter(sessionId: string, seq: number): StoredEvent[] {
    return this.db
      .all('SELECT seq, body FROM events WHERE session_id = ? AND seq > ? ORDER BY seq', [sessionId, seq])
      .map((r) => ({ seq: r.seq as number, event: JSON.parse(r.body as string) as AgentSessionEvent }));
  }

  lastEventSeq(sessionId: string): number {
    const row = this.db.get('SELECT MAX(seq) AS seq FROM events WHERE session_id = ?', [sessionId]);
    return (row?.seq as number | null) ?? 0;
  }

  idempotentRequest(sessionId: string, key: string): string | null {
    const row = this.db.get('SELECT request_hash FROM idempotency WHERE session_id = ? AND key = ?', [sessionId, key]);
    return row ? (row.request_hash as string) : null;
  }

  rememberIdempotent(sessionId: string, key: string, requestHash: string): void {
    this.db.run('INSERT INTO idempotency (session_id, key, request_hash) VALUES (?, ?, ?)', [sessionId, key, requestHash]);
  }
}

function pageAfter<T, R>(all: T[], idOf: (x: T) => string, query: PageQuery, map: (x: T) => R): Page<R> {
  let start = 0;
  if (query.after !== undefined) {
    const at = all.findIndex((x) => idOf(x) === query.after);
    start = at === -1 ? all.length : at + 1;
  }
  const slice = all.slice(start, start + query.limit);
  return { data: slice.map(map), hasMore: start + query.limit < all.length };
}
