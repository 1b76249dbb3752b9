/**
 * How the runtime's store reaches the disk: every write made in one turn of the event loop joins one SQLite
 * transaction, committed when the loop moves on (`setImmediate`), and a commit is made durable by an fsync of the
 * write-ahead log that runs on libuv's thread pool, never on the event loop. Callers that must not answer before
 * their writes are safe (an accepted input, a created session) await `durable()`; events are published once their
 * commit is durable (see EventHub).
 *
 * Why this and not SQLite's own `synchronous = FULL`: the WASM build's file system layer calls `fsyncSync`, so
 * every commit would stop the whole runtime for an fsync (three per commit in the default rollback-journal mode).
 * Here SQLite runs in WAL mode with `synchronous = NORMAL` (a crash of the process loses nothing committed; SQLite
 * syncs the log itself before each checkpoint), and this class adds the fsync that makes each acknowledged commit
 * survive a power cut too: nothing is acknowledged or streamed until the log holding it is on stable storage.
 */
import type { Database } from 'node-sqlite3-wasm';
import { open, type FileHandle } from 'node:fs/promises';

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface CommitListener {
  /** Every commit up to `upTo` (a commit number) is on stable storage. */
  durable(upTo: number): void;
  /** Commit `target` failed and its writes are gone. */
  lost(target: number): void;
}

export class GroupCommit {
  private open = false;
  private depth = 0;
  private committed = 0;
  private synced = 0;
  private syncing = false;
  private failure: Error | null = null;
  private wal: FileHandle | null = null;
  private readonly waiters: Waiter[] = [];
  private readonly listeners = new Set<CommitListener>();

  constructor(
    private readonly db: Database,
    private readonly walPath: string,
  ) {}

  /** The commit that writes made now belong to: the open one, or the last when none is open. */
  get target(): number {
    return this.open ? this.committed + 1 : this.committed;
  }

  listen(listener: CommitListener): void {
    this.listeners.add(listener);
  }

  /** Joins this tick's transaction, opening it (and scheduling its commit) if none is open. Call before a write. */
  begin(): void {
    if (this.failure) throw this.failure;
    if (this.open) return;
    this.db.exec('BEGIN');
    this.open = true;
    setImmediate(() => this.commit());
  }

  /** Runs `fn` inside this tick's transaction as a savepoint: if it throws, none of its writes stay. */
  atomically<T>(fn: () => T): T {
    this.begin();
    const name = `deputy_${this.depth++}`;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = fn();
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      throw err;
    } finally {
      this.depth--;
    }
  }

  /** Commits the open transaction now (normally the tick does it) and starts making it durable. */
  commit(): void {
    if (!this.open) return;
    this.open = false;
    const target = this.committed + 1;
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back.
      }
      const error = new Error(`The runtime could not commit to its store: ${(err as Error).message}`);
      this.settle((t) => t === target, error);
      for (const l of this.listeners) l.lost(target);
      return;
    }
    this.committed = target;
    void this.sync();
  }

  /** Resolves once every write made so far is committed and on stable storage. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = this.target;
    if (target <= this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  /** Commits what is open, waits until it is durable, and lets go of the log's file handle. */
  async close(): Promise<void> {
    this.commit();
    await this.durable().catch(() => undefined);
    await this.wal?.close();
    this.wal = null;
  }

  /** One fsync at a time; commits made while it runs are covered by the next one. */
  private async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      while (this.synced < this.committed && !this.failure) {
        const upTo = this.committed;
        try {
          this.wal ??= await open(this.walPath, 'r+');
          await this.wal.datasync();
        } catch (err) {
          // An fsync that fails may have dropped the pages it was to write (the "fsyncgate" lesson): nothing
          // written since can be promised durable, so the store refuses further work until restarted.
          this.failure = new Error(`The runtime could not sync its store to disk (${(err as Error).message}); restart it.`);
          this.settle(() => true, this.failure);
          return;
        }
        this.synced = upTo;
        this.settle((t) => t <= upTo, null);
        for (const l of this.listeners) l.durable(upTo);
      }
    } finally {
      this.syncing = false;
    }
  }

  private settle(which: (target: number) => boolean, error: Error | null): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (which(w.target)) {
        this.waiters.splice(i, 1);
        if (error) w.reject(error);
        else w.resolve();
      } else {
        i++;
      }
    }
  }
}
