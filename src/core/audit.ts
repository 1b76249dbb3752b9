/**
 * The workspace's tamper-evident audit trail: `<workspace>/.deputy/audit/audit.jsonl`, one hash chain per workspace
 * (the format and why it is shaped so: `audit-record.ts`; checking it: `audit-verify.ts`).
 *
 * Several processes may write one chain (the language server, `deputy run`): every append takes the lock file,
 * re-reads the chain's tail under it, writes one line, fsyncs, and then rewrites `audit.head` atomically. Within a
 * process, appends on one `AuditLog` are queued so records keep the order of the `append` calls.
 *
 * If the log's last line is damaged (not a record), appending fails closed rather than chaining onto it: an audit
 * trail that silently restarts is worse than a task that stops and says why.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { withFileLock, type LockOptions } from './audit-lock.js';
import {
  GENESIS_PREV,
  formatRecordLine,
  headPathFor,
  headRequired,
  parseHead,
  tailProblem,
  recordHash,
  sha256Hex,
  shapeProblem,
  type AuditActor,
  type AuditEventType,
  type AuditHead,
  type AuditRecord,
} from './audit-record.js';
import { redactRecord, redactText, type KnownSecrets } from './redact.js';

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
}

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly now: () => Date,
    private readonly lockOptions: LockOptions,
    private readonly known?: KnownSecrets,
  ) {}

  /** Opens (creating the folder and file) the chain, and checks that its tail can be continued. */
  static async open(workspaceRoot: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const file = path.resolve(options.file ?? defaultAuditFile(workspaceRoot));
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const log = new AuditLog(file, options.now ?? (() => new Date()), options.lock ?? {}, options.known);
    await withFileLock(
      log.lockFile,
      async () => {
        await (await fs.open(file, 'a', 0o600)).close();
        await readContinuableTail(file);
      },
      log.lockOptions,
    );
    return log;
  }

  private get lockFile(): string {
    return `${this.file}.lock`;
  }

  /** Appends one record and resolves to it once it is on disk. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new Error(`The audit log ${this.file} is closed.`));
    const run = this.queue.then(() => withFileLock(this.lockFile, () => this.appendLocked(entry), this.lockOptions));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for queued appends; later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private async appendLocked(entry: AuditEntry): Promise<AuditRecord> {
    const tail = await readContinuableTail(this.file);
    const body: Omit<AuditRecord, 'hash'> = {
      v: 1,
      seq: tail ? tail.record.seq + 1 : 1,
      time: this.now().toISOString(),
      type: entry.type,
      session: entry.session ?? null,
      task: entry.task ?? null,
      actor: cleanActor(entry.actor, this.known),
      data: redactRecord(entry.data ?? {}, this.known),
      prev: tail ? sha256Hex(tail.line) : GENESIS_PREV,
    };
    const record: AuditRecord = { ...body, hash: recordHash(body) };
    const handle = await fs.open(this.file, 'a', 0o600);
    try {
      await handle.write(`${formatRecordLine(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await writeHead(this.file, record);
    return record;
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
  line: string;
  record: AuditRecord;
}

/**
 * The chain's last record, after checking it can be continued: the last line is a whole record and agrees with
 * `audit.head`. Otherwise appending would bury the damage under fresh, valid-looking records, so it throws.
 */
async function readContinuableTail(file: string): Promise<Tail | null> {
  const tail = await readTail(file);
  const head = parseHead(await fs.readFile(headPathFor(file), 'utf8').catch(() => ''));
  const problem = tailProblem(head, tail?.record ?? null, headRequired(file));
  if (problem) {
    throw new AuditIntegrityError(
      `The audit log ${file} does not match its audit.head (record ${problem.badIndex} ${problem.reason}), ` +
        'so Deputy will not add to it. Run `deputy audit verify` for details; to start a new chain, move ' +
        'both files aside.',
    );
  }
  return tail;
}

/** The last record of the chain, read from the end of the file; null for an empty chain. */
async function readTail(file: string): Promise<Tail | null> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return null;
    const { text, complete } = await lastLine(handle, size);
    let record: unknown;
    try {
      record = complete ? JSON.parse(text) : undefined;
    } catch {
      record = undefined;
    }
    if (shapeProblem(record) !== null) {
      throw new AuditIntegrityError(
        `The audit log ${file} ends with a damaged record, so Deputy will not add to it. ` +
          'Run `deputy audit verify` to see where, then move the file aside to start a new chain.',
      );
    }
    return { line: text, record: record as AuditRecord };
  } finally {
    await handle.close();
  }
}

/**
 * The file's last line without its newline, read backwards in chunks so a long log is not read whole.
 * `complete` is false when the file does not end with a newline: a torn write.
 */
async function lastLine(handle: fs.FileHandle, size: number): Promise<{ text: string; complete: boolean }> {
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
  return { text: Buffer.concat(chunks).toString('utf8'), complete };
}

/** Rewrites `audit.head` through a temporary file and a rename, so a reader never sees half a head. */
async function writeHead(file: string, record: AuditRecord): Promise<void> {
  const headFile = headPathFor(file);
  const temp = `${headFile}.${process.pid}.tmp`;
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await handle.write(`${JSON.stringify({ seq: record.seq, hash: record.hash } satisfies AuditHead)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, headFile);
}
