/**
 * The runtime's durable state in embedded SQLite (the WASM build: no native addon), at `<dataDir>/runtime.db`:
 * sessions, turns, items, events and idempotency keys. Every call is synchronous, so a sequence of store
 * calls made without an `await` in between is atomic with respect to other requests.
 *
 * Durability (see group-commit.ts): WAL journal with `synchronous = NORMAL`, the writes of one event-loop tick
 * committed together, and the log fsync'd off the event loop before anything is acknowledged. The database is
 * opened in exclusive locking mode: one process owns it (store-lock.ts makes sure of that), and the WASM build
 * has no shared memory for a WAL index, which exclusive mode does without.
 *
 * Lists page in SQL: a cursor (the row after which to start) and `LIMIT`, never everything then a slice.
 */
import { Database, type Statement, type SQLiteValue } from 'node-sqlite3-wasm';
import { randomBytes } from 'node:crypto';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { redactStrings, type KnownSecrets } from '../core/redact.js';
import { GroupCommit } from './group-commit.js';
import type { RuntimeItem, SessionStatus, StoredSession, StoredTurn } from './wire.js';

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
CREATE INDEX IF NOT EXISTS sessions_status ON sessions(status, deleted);
CREATE TABLE IF NOT EXISTS turns (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id);
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

/** A stored event: the wire event, its JSON as stored, and its position in the log. */
export interface StoredEvent {
  seq: number;
  id: string;
  json: string;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

type Row = Record<string, SQLiteValue>;

export class RuntimeStore {
  private readonly statements = new Map<string, Statement>();

  private constructor(
    private readonly db: Database,
    /** The tick transaction and its durability; EventHub listens to it. */
    readonly commits: GroupCommit,
    private readonly known: KnownSecrets | undefined,
  ) {}

  /**
   * `known`: the runtime's own secrets (its token, the model's API key). Every body written is first cleared of them
   * and of recognisable credential formats (`redactStrings`): the store, and so the conversation the model is sent
   * back, never holds a credential.
   */
  static open(file: string, options: { known?: KnownSecrets } = {}): RuntimeStore {
    const db = new Database(file);
    try {
      // Must come before the first read: in exclusive mode SQLite keeps the WAL index in memory (no -shm file).
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      const mode = db.get('PRAGMA journal_mode = WAL')?.journal_mode;
      if (mode !== 'wal') throw new Error(`SQLite would not use its write-ahead log for ${file} (journal mode ${String(mode)}).`);
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw err;
    }
    return new RuntimeStore(db, new GroupCommit(db, `${file}-wal`), options.known);
  }

  private body(value: unknown): string {
    return JSON.stringify(redactStrings(value, this.known));
  }

  /** Commits, waits for the disk, and closes (which checkpoints the log into the database file). */
  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    await this.commits.close();
    for (const s of this.statements.values()) s.finalize();
    this.statements.clear();
    this.db.close();
  }

  /** Runs `fn` atomically: either all of its writes land or none do. */
  transaction<T>(fn: () => T): T {
    return this.commits.atomically(fn);
  }

  /** Resolves when every write made so far is on stable storage. */
  durable(): Promise<void> {
    return this.commits.durable();
  }

  insertSession(s: StoredSession): void {
    this.write('INSERT INTO sessions (id, principal, status, body) VALUES (?, ?, ?, ?)', [s.id, s.principal, s.status, this.body(s)]);
  }

  saveSession(s: StoredSession): void {
    this.write('UPDATE sessions SET status = ?, body = ? WHERE id = ?', [s.status, this.body(s), s.id]);
  }

  /** The session, unless it does not exist or was deleted. */
  getSession(id: string): StoredSession | null {
    const row = this.one('SELECT body FROM sessions WHERE id = ? AND deleted = 0', [id]);
    return row ? (JSON.parse(row.body as string) as StoredSession) : null;
  }

  /**
   * Deletes a session. By default its turns, items, events and idempotency keys go with it, and SQLite's
   * `secure_delete` zeroes the freed bytes in the database file; `keepRows` only hides it (retention).
   */
  deleteSession(id: string, keepRows: boolean): void {
    if (keepRows) {
      this.write('UPDATE sessions SET deleted = 1 WHERE id = ?', [id]);
      return;
    }
    this.db.exec('PRAGMA secure_delete = ON');
    try {
      this.transaction(() => {
        for (const table of ['events', 'items', 'turns', 'idempotency']) this.write(`DELETE FROM ${table} WHERE session_id = ?`, [id]);
        this.write('DELETE FROM sessions WHERE id = ?', [id]);
      });
    } finally {
      this.db.exec('PRAGMA secure_delete = OFF');
    }
  }

  /** Sessions whose self-hosted environment was last recorded connected (none is, right after a start). */
  sessionsWithConnectedEnvironment(): StoredSession[] {
    return this.rows("SELECT body FROM sessions WHERE json_extract(body, '$.environment.status') = 'connected' AND deleted = 0 ORDER BY seq", []).map(
      (r) => JSON.parse(r.body as string) as StoredSession,
    );
  }

  sessionsWithStatus(status: SessionStatus): StoredSession[] {
    return this.rows('SELECT body FROM sessions WHERE status = ? AND deleted = 0 ORDER BY seq', [status]).map(
      (r) => JSON.parse(r.body as string) as StoredSession,
    );
  }

  /** A page of the principal's sessions whose metadata has every given key and value. */
  listSessions(principal: string, query: PageQuery, metadata: Record<string, string>): Page<StoredSession> {
    const filters = Object.entries(metadata);
    const where = filters.map(() => " AND EXISTS (SELECT 1 FROM json_each(body, '$.metadata') WHERE key = ? AND value = ?)").join('');
    const cursor = query.after === undefined ? '' : ` AND seq ${query.order === 'asc' ? '>' : '<'} (SELECT seq FROM sessions WHERE id = ? AND principal = ? AND deleted = 0)`;
    const values: SQLiteValue[] = [principal, ...filters.flat(), ...(query.after === undefined ? [] : [query.after, principal]), query.limit + 1];
    const rows = this.rows(
      `SELECT body FROM sessions WHERE principal = ? AND deleted = 0${where}${cursor} ORDER BY seq ${order(query)} LIMIT ?`,
      values,
    );
    return page(rows, query.limit, (r) => JSON.parse(r.body as string) as StoredSession);
  }

  insertTurn(t: StoredTurn): void {
    this.write('INSERT INTO turns (id, session_id, body) VALUES (?, ?, ?)', [t.id, t.sessionId, this.body(t)]);
  }

  saveTurn(t: StoredTurn): void {
    this.write('UPDATE turns SET body = ? WHERE id = ?', [this.body(t), t.id]);
  }

  getTurn(id: string): StoredTurn | null {
    const row = this.one('SELECT body FROM turns WHERE id = ?', [id]);
    return row ? (JSON.parse(row.body as string) as StoredTurn) : null;
  }

  appendItem(sessionId: string, item: RuntimeItem & { id: string }): void {
    this.write('INSERT INTO items (id, session_id, body) VALUES (?, ?, ?)', [item.id, sessionId, this.body(item)]);
  }

  saveItem(item: RuntimeItem & { id: string }): void {
    this.write('UPDATE items SET body = ? WHERE id = ?', [this.body(item), item.id]);
  }

  getItem(id: string): RuntimeItem | null {
    const row = this.one('SELECT body FROM items WHERE id = ?', [id]);
    return row ? (JSON.parse(row.body as string) as RuntimeItem) : null;
  }

  /** Every item of the session, oldest first: the conversation the model sees. */
  allItems(sessionId: string): RuntimeItem[] {
    return this.rows('SELECT body FROM items WHERE session_id = ? ORDER BY seq', [sessionId]).map((r) => JSON.parse(r.body as string) as RuntimeItem);
  }

  listItems(sessionId: string, query: PageQuery): Page<RuntimeItem> {
    const cursor = query.after === undefined ? '' : ` AND seq ${query.order === 'asc' ? '>' : '<'} (SELECT seq FROM items WHERE id = ? AND session_id = ?)`;
    const values: SQLiteValue[] = [sessionId, ...(query.after === undefined ? [] : [query.after, sessionId]), query.limit + 1];
    const rows = this.rows(`SELECT body FROM items WHERE session_id = ?${cursor} ORDER BY seq ${order(query)} LIMIT ?`, values);
    return page(rows, query.limit, (r) => JSON.parse(r.body as string) as RuntimeItem);
  }

  /** Stores an event; returns its seq and its JSON as stored (redacted), serialized once for the store and the wire. */
  appendEvent(sessionId: string, event: AgentSessionEvent): { seq: number; json: string } {
    const json = this.body(event);
    const seq = Number(this.write('INSERT INTO events (id, session_id, body) VALUES (?, ?, ?)', [event.event_id, sessionId, json]).lastInsertRowid);
    return { seq, json };
  }

  /** Where an event sits in the session's log, or null when the session has no such event. */
  eventSeq(sessionId: string, eventId: string): number | null {
    const row = this.one('SELECT seq FROM events WHERE id = ? AND session_id = ?', [eventId, sessionId]);
    return row ? (row.seq as number) : null;
  }

  /** At most `limit` of the session's events after `afterSeq` and up to `upToSeq`, in order. */
  eventsAfter(sessionId: string, afterSeq: number, upToSeq: number, limit: number): StoredEvent[] {
    return this.rows('SELECT seq, id, body FROM events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?', [
      sessionId,
      afterSeq,
      upToSeq,
      limit,
    ]).map((r) => ({ seq: r.seq as number, id: r.id as string, json: r.body as string }));
  }

  /** The highest event seq in the store (0 when empty). */
  lastEventSeq(): number {
    return (this.one('SELECT MAX(seq) AS seq FROM events', [])?.seq as number | null) ?? 0;
  }

  idempotentRequest(sessionId: string, key: string): string | null {
    const row = this.one('SELECT request_hash FROM idempotency WHERE session_id = ? AND key = ?', [sessionId, key]);
    return row ? (row.request_hash as string) : null;
  }

  rememberIdempotent(sessionId: string, key: string, requestHash: string): void {
    this.write('INSERT INTO idempotency (session_id, key, request_hash) VALUES (?, ?, ?)', [sessionId, key, requestHash]);
  }

  /** Prepared once per SQL text; the hot statements run thousands of times a second under load. */
  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private write(sql: string, values: SQLiteValue[]) {
    this.commits.begin();
    return this.statement(sql).run(values);
  }

  /** Reads run to completion (`all`), so no statement is left mid-step holding a read open. */
  private rows(sql: string, values: SQLiteValue[]): Row[] {
    return this.statement(sql).all(values) as Row[];
  }

  private one(sql: string, values: SQLiteValue[]): Row | null {
    return this.rows(sql, values)[0] ?? null;
  }
}

function order(query: PageQuery): 'ASC' | 'DESC' {
  return query.order === 'asc' ? 'ASC' : 'DESC';
}

function page<R>(rows: Row[], limit: number, map: (r: Row) => R): Page<R> {
  return { data: rows.slice(0, limit).map(map), hasMore: rows.length > limit };
}
