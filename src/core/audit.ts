/**
 * The workspace's tamper-evident audit trail: `<workspace>/.deputy/audit/audit.jsonl`, one hash chain per workspace
 * (the format and why it is shaped so: `audit-record.ts`; the head protocol that survives a crash mid-append:
 * `audit-head.ts`; checking it: `audit-verify.ts`).
 *
 * Several processes may write one chain (the language server, `deputy run`): appends take the lock file, re-read
 * the chain's tail and head under it, announce the batch in `audit.head`, write the batch, fsync, and confirm it in
 * `audit.head`. Within a process, appends on one `AuditLog` keep the order of the `append` calls, and appends queued
 * while another is being written go out together: one head write, one log write and one fsync for the lot. The
 * lock is held while appends keep coming (up to `HOLD_MS`), so a burst pays for the lock once.
 *
 * If the log's last line is damaged (not a record, and not a write of Deputy's cut short by a crash), appending
 * fails closed rather than chaining onto it: an audit trail that silently restarts is worse than a task that stops
 * and says why.
 *
 * The folder and files are Deputy's own state: a link or a file owned by someone else is refused (`state-dir.ts`).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { formatHead, readPendingState, type HeadFile } from './audit-head.js';
import { withFileLock, type LockOptions } from './audit-lock.js';
import {
  GENESIS_PREV,
  formatRecordLine,
  headPathFor,
  headRequired,
  parseHead,
  tailProblem,
  recordHash,
  shapeProblem,
  type AuditActor,
  type AuditEventType,
  type AuditHead,
  type AuditRecord,
} from './audit-record.js';
import { DIGEST_EVERY_MS, DIGEST_EVERY_RECORDS, DIGEST_TYPE, findLastDigest, linkTo, signDigest, type AuditSigner, type DigestLink } from './audit-digest.js';
import { redactRecord, redactText, type KnownSecrets } from './redact.js';
import { ensureStateDir, openStateFile, readStateFile } from './state-dir.js';
import { sha256Hex } from './workspace-text.js';

export type { AuditActor, AuditEventType, AuditHead, AuditRecord } from './audit-record.js';
export { verifyAudit, readAudit } from './audit-verify.js';
export { toOtlp } from './audit-otlp.js';

/**
 * The chain cannot be continued safely (its end is damaged or disagrees with `audit.head`). The message says what
 * to do; Deputy stops rather than write past the damage.
 */
export class AuditIntegrityError extends Error {
  override readonly name = 'AuditIntegrityError';
}

/** Where a workspace's audit chain lives. */
export function auditDir(workspaceRoot: string): string {
  return path.join(workspaceRoot, '.deputy', 'audit');
}

export function defaultAuditFile(workspaceRoot: string): string {
  return path.join(auditDir(workspaceRoot), 'audit.jsonl');
}

/** What a caller records; the log adds `v`, `seq`, `time`, `prev`, `hash` and redacts `data`. */
export interface AuditEntry {
  type: AuditEventType;
  session?: string | null;
  task?: string | null;
  actor: AuditActor;
  data?: Record<string, unknown>;
}

export interface AuditLogOptions {
  /** The chain file; `<workspace>/.deputy/audit/audit.jsonl` when absent. */
  file?: string;
  /** The record time; the system clock when absent. */
  now?: () => Date;
  lock?: LockOptions;
  /** The exact secrets this process was configured with: removed from records in every encoding (`redact.ts`). */
  known?: KnownSecrets;
  /**
   * Test hook: called at each step of an append (`announced`: the head carries the pending marker; `written`: the
   * batch is in the log and fsync'd; `confirmed`: the head names the batch's last record). A hook that throws stops
   * the append right there, as a crash would.
   */
  onStep?: (step: 'announced' | 'written' | 'confirmed') => void;
  /**
   * Signs digests over the chain (`audit-digest.ts`): one at the end of every task (`task.finished`), and one when
   * `DIGEST_EVERY_RECORDS` records or `DIGEST_EVERY_MS` have passed since this log's last digest. Each digest is
   * written in the same batch as the records it follows, so no crash leaves a finished task unsigned.
   */
  signer?: AuditSigner;
  /** Test hook: overrides when periodic digests fall due. */
  digestEvery?: { records?: number; ms?: number };
  /** Told when a digest could not be signed (its records were written unsigned; the next digest covers them). */
  onDigestError?: (err: unknown) => void;
}

/** Records written together at most; a bigger queue goes out in several batches. */
const MAX_BATCH_RECORDS = 256;
/** How long one `AuditLog` keeps the lock while appends keep arriving, before letting other writers in. */
const HOLD_MS = 100;

interface Queued {
  entry: AuditEntry;
  resolve: (record: AuditRecord) => void;
  reject: (err: unknown) => void;
}

/** The chain's state under the lock: its last record, the head it is confirmed by, and the log's size. */
interface ChainState {
  tail: Tail | null;
  head: AuditHead | null;
  size: number;
}

export class AuditLog {
  private readonly waiting: Queued[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;
  /** The log, kept open between appends; reopened when the file at the path is no longer this one. */
  private handle: fs.FileHandle | null = null;
  /** Records this log appended since its last digest, and when that digest was written (periodic digests). */
  private sinceDigest = 0;
  private lastDigestAt: number;
  /** The newest digest this log knows of, and the log's size just after it was read or written (see lastDigest). */
  private knownDigest: { link: DigestLink | null; size: number; ino: number } | null = null;

  private constructor(
    readonly file: string,
    private readonly now: () => Date,
    private readonly lockOptions: LockOptions,
    private readonly onStep: AuditLogOptions['onStep'],
    private readonly known?: KnownSecrets,
    private readonly signer?: AuditSigner,
    private readonly digestEvery: { records: number; ms: number } = { records: DIGEST_EVERY_RECORDS, ms: DIGEST_EVERY_MS },
    private readonly onDigestError?: (err: unknown) => void,
  ) {
    this.lastDigestAt = now().getTime();
  }

  /** The key id digests are signed with, or null when this log does not sign. */
  get signingKeyId(): string | null {
    return this.signer?.keyId ?? null;
  }

  /**
   * Opens (creating the folder and file) the chain, finishes an append a crash interrupted, and checks that its
   * tail can be continued.
   */
  static async open(workspaceRoot: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const file = path.resolve(options.file ?? defaultAuditFile(workspaceRoot));
    await ensureStateDir(path.dirname(file));
    const digestEvery = {
      records: options.digestEvery?.records ?? DIGEST_EVERY_RECORDS,
      ms: options.digestEvery?.ms ?? DIGEST_EVERY_MS,
    };
    const log = new AuditLog(
      file,
      options.now ?? (() => new Date()),
      options.lock ?? {},
      options.onStep,
      options.known,
      options.signer,
      digestEvery,
      options.onDigestError,
    );
    try {
      await withFileLock(log.lockFile, () => log.recover(), log.lockOptions);
    } catch (err) {
      await log.closeHandle();
      throw err;
    }
    return log;
  }

  private get lockFile(): string {
    return `${this.file}.lock`;
  }

  /** Appends one record and resolves to it once it is on disk. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new Error(`The audit log ${this.file} is closed.`));
    return new Promise<AuditRecord>((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  /** Waits for queued appends; later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /** Writes everything queued, a batch at a time, taking the lock once per burst. */
  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      try {
        await withFileLock(this.lockFile, () => this.writeBurst(), this.lockOptions);
      } catch (err) {
        // The lock could not be had (or the head could not be confirmed): everything still queued fails with it.
        for (const q of this.waiting.splice(0)) q.reject(err);
      }
    }
  }

  /** Under the lock: batches while appends keep arriving (up to HOLD_MS), then confirms the last in the head. */
  private async writeBurst(): Promise<void> {
    const started = Date.now();
    let unconfirmed: AuditHead | null = null;
    do {
      const batch = this.waiting.splice(0, MAX_BATCH_RECORDS);
      try {
        const state = await this.recover();
        const records = this.buildRecords(batch.map((q) => q.entry), state.tail);
        if (this.digestDue(records)) {
          // A signer that cannot sign (KMS unreachable, credentials expired) never costs the records themselves:
          // they are written unsigned and the next digest that succeeds covers them.
          const digest = await this.buildDigest(state, records).catch((err: unknown) => {
            this.lastDigestAt = this.now().getTime();
            this.onDigestError?.(err);
            return null;
          });
          if (digest) records.push(digest);
        }
        await this.writeBatch(state, records);
        if (records[records.length - 1]!.type === DIGEST_TYPE) this.digestWritten(state, records);
        else this.sinceDigest += records.length;
        unconfirmed = { seq: records[records.length - 1]!.seq, hash: records[records.length - 1]!.hash };
        batch.forEach((q, i) => q.resolve(records[i]!));
      } catch (err) {
        batch.forEach((q) => q.reject(err));
        // Whatever was written before this batch is confirmed by the next reader from its marker, if at all.
        return;
      }
      // Let callers that were waiting for this batch queue their next record while the lock is still ours.
      await nextTurn();
    } while (this.waiting.length > 0 && Date.now() - started < HOLD_MS);
    // With appends still waiting (the burst ended only to let other writers in), the next announcement, ours or
    // another process's, confirms this batch anyway: a separate confirmation would be one more fsync for nothing.
    if (this.waiting.length > 0) return;
    await this.writeHead(unconfirmed);
    this.onStep?.('confirmed');
  }

  /** Whether a digest goes out with this batch: a task ended in it, or enough records or time passed. */
  private digestDue(records: AuditRecord[]): boolean {
    if (!this.signer) return false;
    if (records.some((r) => r.type === 'task.finished')) return true;
    if (this.sinceDigest + records.length >= this.digestEvery.records) return true;
    return this.now().getTime() - this.lastDigestAt >= this.digestEvery.ms;
  }

  /** The signed digest record that follows `records` (not yet written) on the chain in `state`. */
  private async buildDigest(state: ChainState, records: AuditRecord[]): Promise<AuditRecord> {
    const signer = this.signer!;
    const previous = await this.lastDigest(state);
    const last = records[records.length - 1]!;
    const data = await signDigest(signer, {
      from: (previous?.seq ?? 0) + 1,
      to: last.seq,
      last_hash: last.hash,
      previous,
      signed_at: this.now().toISOString(),
    });
    const body: Omit<AuditRecord, 'hash'> = {
      v: 1,
      seq: last.seq + 1,
      time: data.signed_at,
      type: DIGEST_TYPE,
      session: null,
      task: null,
      actor: { principal: 'deputy', client: signer.keyId },
      data: { ...data },
      prev: sha256Hex(formatRecordLine(last)),
    };
    return { ...body, hash: recordHash(body) };
  }

  private digestWritten(state: ChainState, records: AuditRecord[]): void {
    const digest = records[records.length - 1]!;
    const written = Buffer.byteLength(records.map((r) => `${formatRecordLine(r)}\n`).join(''), 'utf8');
    this.knownDigest = { link: linkTo(digest), size: state.size + written, ino: this.knownDigest?.ino ?? -1 };
    this.sinceDigest = 0;
    this.lastDigestAt = this.now().getTime();
  }

  /**
   * The newest digest on the chain (null when there is none), read backwards from the end; what this log read or
   * wrote before bounds the search, so only the part other writers added since is read again.
   */
  private async lastDigest(state: ChainState): Promise<DigestLink | null> {
    const handle = await this.log();
    const { ino } = await handle.stat();
    const known = this.knownDigest !== null && (this.knownDigest.ino === ino || this.knownDigest.ino === -1) ? this.knownDigest : null;
    const stopAt = known !== null && known.size <= state.size ? known.size : 0;
    const found = await findLastDigest(handle, state.size, stopAt);
    const link = found !== undefined ? found : stopAt > 0 ? known!.link : null;
    this.knownDigest = { link, size: state.size, ino };
    return link;
  }

  private buildRecords(entries: AuditEntry[], tail: Tail | null): AuditRecord[] {
    const records: AuditRecord[] = [];
    let seq = tail ? tail.record.seq : 0;
    let prev = tail ? sha256Hex(tail.bytes) : GENESIS_PREV;
    for (const entry of entries) {
      const body: Omit<AuditRecord, 'hash'> = {
        v: 1,
        seq: ++seq,
        time: this.now().toISOString(),
        type: entry.type,
        session: entry.session ?? null,
        task: entry.task ?? null,
        actor: cleanActor(entry.actor, this.known),
        data: redactRecord(entry.data ?? {}, this.known),
        prev,
      };
      const record: AuditRecord = { ...body, hash: recordHash(body) };
      prev = sha256Hex(formatRecordLine(record));
      records.push(record);
    }
    return records;
  }

  /** Announces the batch in the head, appends it and fsyncs (the records are then on disk). */
  private async writeBatch(state: ChainState, records: AuditRecord[]): Promise<void> {
    const text = records.map((r) => `${formatRecordLine(r)}\n`).join('');
    const last = records[records.length - 1]!;
    // The tail `recover` accepted is what the head confirms (also when the head was missing: one record, no head).
    const confirmed = state.tail ? { seq: state.tail.record.seq, hash: state.tail.record.hash } : { seq: 0, hash: '' };
    await this.writeHead({ seq: confirmed.seq, hash: confirmed.hash, pending: { offset: state.size, seq: last.seq, hash: last.hash, text } });
    this.onStep?.('announced');
    const handle = await this.log();
    await handle.write(text);
    await handle.datasync();
    this.onStep?.('written');
  }

  /**
   * Under the lock: the chain's state, after finishing what a crash interrupted (a batch the head announced and
   * the log holds, whole or cut short) and checking the tail can be continued. Throws `AuditIntegrityError` when
   * it cannot: appending would bury the damage under fresh, valid-looking records.
   */
  private async recover(): Promise<ChainState> {
    const handle = await this.log();
    let size = (await handle.stat()).size;
    const headText = await readStateFile(headPathFor(this.file));
    const headFile = headText === null ? null : parseHead(headText);
    let head: AuditHead | null = headFile === null ? null : { seq: headFile.seq, hash: headFile.hash };
    const pending = headFile?.pending;
    if (pending) {
      const batch = Buffer.from(pending.text, 'utf8');
      const { state, atOffset } = await readPendingState(handle, pending, size);
      if (state === 'torn') {
        // Our own write, cut short: finish it from the marker, so the records the head announced exist whole.
        await handle.write(batch.subarray(atOffset.length));
        await handle.datasync();
        size += batch.length - atOffset.length;
      }
      if (state === 'written' || state === 'torn') head = { seq: pending.seq, hash: pending.hash };
    }
    const tail = await readTail(handle, size, this.file);
    const problem = tailProblem(head, tail?.record ?? null, headRequired(this.file));
    if (problem) {
      throw new AuditIntegrityError(
        `The audit log ${this.file} does not match its audit.head (record ${problem.badIndex} ${problem.reason}), ` +
          'so Deputy will not add to it. Run `deputy audit verify` for details; to start a new chain, move ' +
          'both files aside.',
      );
    }
    return { tail, head, size };
  }

  /** The open log, reopened (without following links) when the path no longer names the file we hold. */
  private async log(): Promise<fs.FileHandle> {
    if (this.handle) {
      const [held, atPath] = await Promise.all([this.handle.stat(), fs.lstat(this.file).catch(() => null)]);
      if (atPath && atPath.ino === held.ino && atPath.dev === held.dev) return this.handle;
      await this.closeHandle();
    }
    this.handle = await openStateFile(this.file, 'a+');
    return this.handle;
  }

  /** Replaces `audit.head` through a temp file, fsync and rename, so a reader never sees half a head. */
  private async writeHead(head: HeadFile | null): Promise<void> {
    if (head === null) return;
    const headFile = headPathFor(this.file);
    // One temp name: writers hold the lock, and a temp left by a crash is simply overwritten next time.
    const temp = `${headFile}.tmp`;
    const handle = await openStateFile(temp, 'w');
    try {
      await handle.write(formatHead(head));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, headFile);
  }
}

function cleanActor(actor: AuditActor, known: KnownSecrets | undefined): AuditActor {
  return {
    principal: redactText(actor.principal, known),
    ...(actor.account !== undefined ? { account: redactText(actor.account, known) } : {}),
    ...(actor.client !== undefined ? { client: redactText(actor.client, known) } : {}),
  };
}

interface Tail {
  /** The last line's bytes as stored (what the next record's `prev` hashes). */
  bytes: Buffer;
  record: AuditRecord;
}


/** The last record of the chain in its first `size` bytes, read from the end; null for an empty chain. */
async function readTail(handle: fs.FileHandle, size: number, file: string): Promise<Tail | null> {
  if (size === 0) return null;
  const { bytes, complete } = await lastLine(handle, size);
  let record: unknown;
  try {
    record = complete ? JSON.parse(bytes.toString('utf8')) : undefined;
  } catch {
    record = undefined;
  }
  if (shapeProblem(record) !== null) {
    throw new AuditIntegrityError(
      `The audit log ${file} ends with a damaged record, so Deputy will not add to it. ` +
        'Run `deputy audit verify` to see where, then move the file aside to start a new chain.',
    );
  }
  return { bytes, record: record as AuditRecord };
}

/**
 * The file's last line without its newline, read backwards in chunks so a long log is not read whole.
 * `complete` is false when the file does not end with a newline: a torn write.
 */
async function lastLine(handle: fs.FileHandle, size: number): Promise<{ bytes: Buffer; complete: boolean }> {
  const lastByte = Buffer.alloc(1);
  await handle.read(lastByte, 0, 1, size - 1);
  const complete = lastByte[0] === 0x0a;
  const chunks: Buffer[] = [];
  let pos = complete ? size - 1 : size;
  while (pos > 0) {
    const length = Math.min(64 * 1024, pos);
    pos -= length;
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, pos);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) {
      chunks.unshift(buf.subarray(nl + 1));
      break;
    }
    chunks.unshift(buf);
  }
  return { bytes: Buffer.concat(chunks), complete };
}
