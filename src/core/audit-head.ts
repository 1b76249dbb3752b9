/**
 * The head protocol: how `audit.head` lets a reader tell a crash in the middle of an append from a record written
 * behind Deputy's back.
 *
 * An append of a batch of records (one or more lines) goes:
 * 1. under the lock, `audit.head` is replaced (temp file, fsync, rename) by the confirmed head plus a `pending`
 *    marker: the byte offset where the batch starts, the batch's last `seq` and `hash`, and the batch's exact text;
 * 2. the batch is appended to `audit.jsonl` and fsync'd (the append resolves here);
 * 3. `audit.head` is replaced by the new confirmed head, without `pending` (or, when the next batch is already
 *    queued, by the new confirmed head plus the next batch's marker: step 1 of the next batch).
 *
 * A crash at any step leaves a state the next reader recognises from the log's bytes after `pending.offset`:
 * - nothing there (crash before step 2 wrote anything): the confirmed head stands;
 * - exactly the marker's text (crash after step 2): the batch is Deputy's; the marker's `seq`/`hash` is the head;
 * - a strict prefix of the marker's text (crash during step 2): a torn write of Deputy's own; the writer completes
 *   it from the marker, the verifier accepts the chain up to the offset and says an append was interrupted;
 * - anything else: not what Deputy wrote. The marker is ignored and the usual checks against the confirmed head
 *   report every record past it, exactly as without a marker.
 * A record appended by anyone who did not write a marker (the only way a forger who does not also rewrite the head
 * could add one) is therefore still reported: a marker without the record's exact bytes vouches for nothing.
 */
import type { promises as fs } from 'node:fs';
import type { AuditHead } from './audit-record.js';

/** The batch an unfinished append announced, as stored in `audit.head`. */
export interface PendingBatch {
  /** Byte offset in the log where the batch starts (the log's size when it was announced). */
  offset: number;
  /** `seq` and `hash` of the batch's last record. */
  seq: number;
  hash: string;
  /** The batch exactly as appended: whole lines, each ending with a line break. */
  text: string;
}

/** `audit.head` with an optional pending marker. */
export interface HeadFile extends AuditHead {
  pending?: PendingBatch;
}

export function formatHead(head: HeadFile): string {
  return `${JSON.stringify(head)}\n`;
}

/** The pending marker of a parsed head file, when it is well-formed and ahead of the confirmed head; else null. */
export function parsePending(value: unknown, confirmedSeq: number): PendingBatch | null {
  if (value === null || typeof value !== 'object') return null;
  const p = value as Partial<PendingBatch>;
  if (!Number.isSafeInteger(p.offset) || (p.offset as number) < 0) return null;
  if (!Number.isSafeInteger(p.seq) || (p.seq as number) <= confirmedSeq) return null;
  if (typeof p.hash !== 'string' || typeof p.text !== 'string' || p.text === '' || !p.text.endsWith('\n')) return null;
  return { offset: p.offset as number, seq: p.seq as number, hash: p.hash, text: p.text };
}

/** What the log holds where the pending batch was to be written. */
export type PendingState =
  /** Nothing past the offset: the batch was never written. */
  | 'unwritten'
  /** The batch in full (possibly followed by more, which the usual checks judge). */
  | 'written'
  /** A strict prefix of the batch and nothing else: the write was cut short. */
  | 'torn'
  /** Something other than the batch: the marker vouches for nothing. */
  | 'foreign';

/**
 * Classifies the log against a pending batch. `size` is the log's size; `atOffset` the bytes read from
 * `pending.offset` (at most the batch's length).
 */
export function pendingState(pending: PendingBatch, size: number, atOffset: Buffer): PendingState {
  if (size < pending.offset) return 'foreign';
  if (size === pending.offset) return 'unwritten';
  const batch = Buffer.from(pending.text, 'utf8');
  if (atOffset.length > batch.length) return 'foreign';
  if (!batch.subarray(0, atOffset.length).equals(atOffset)) return 'foreign';
  if (atOffset.length === batch.length) return 'written';
  // A prefix counts as torn only when the log ends there; bytes after a partial batch are not Deputy's.
  return size === pending.offset + atOffset.length ? 'torn' : 'foreign';
}

/**
 * Reads what the log holds where `pending` was to be written and classifies it; `atOffset` is those bytes (at most
 * the batch's length), which the writer needs to complete a torn write.
 */
export async function readPendingState(
  handle: fs.FileHandle,
  pending: PendingBatch,
  size: number,
): Promise<{ state: PendingState; atOffset: Buffer }> {
  const length = Buffer.byteLength(pending.text, 'utf8');
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buf, got, length - got, pending.offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const atOffset = buf.subarray(0, got);
  return { state: pendingState(pending, size, atOffset), atOffset };
}
