/**
 * Checking and reading an audit chain (`deputy audit verify`, the export, the audit view).
 *
 * Verification walks the file once, a megabyte at a time (memory stays bounded whatever the trail's size), and names
 * the FIRST record that breaks the chain:
 * - a line that is not a record (malformed JSON, wrong fields, a torn last line);
 * - a record whose `hash` does not match its content (edited in place);
 * - a record whose `seq` is not its line number (records removed, inserted or reordered before it);
 * - a record whose `prev` is not the hash of the line before it (a neighbour replaced, removed or inserted with
 *   renumbering);
 * - a chain that disagrees with `audit.head` (records cut off the end, or the end replaced). When the head is
 *   missing see `headRequired` in `audit-record.ts`; when it announces an append a crash interrupted, see
 *   `audit-head.ts`.
 *
 * Without a key nothing stops someone with write access from rewriting the whole chain and its head; what the chain
 * guarantees is that any partial edit shows, and an exported copy (or its OTLP spans, which carry each record's
 * hash) pins what was there.
 */
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyObject } from 'node:crypto';
import { DigestChecker, type SignatureSummary } from './audit-digest.js';
import { readPendingState, type PendingBatch } from './audit-head.js';
import { withFileLock } from './audit-lock.js';
import {
  GENESIS_PREV,
  headPathFor,
  headRequired,
  parseHead,
  recordHash,
  shapeProblem,
  tailProblem,
  type AuditHead,
  type AuditRecord,
} from './audit-record.js';
import { sha256Hex } from './workspace-text.js';

export type VerifyResult =
  | {
      ok: true;
      records: number;
      /** False when there was no `audit.head` to compare the end with (an exported copy): a cut-off tail would not show. */
      tailChecked: boolean;
      /**
       * Set when the last append was cut short while writing (a crash): the part of its batch on disk is left out
       * of `records`, and Deputy's next append completes it from the head's marker.
       */
      interrupted?: { from: number; to: number };
      /** What the signed digests cover (`audit-digest.ts`); present when public keys were given. */
      signatures?: SignatureSummary & {
        /** Records after the newest verified digest: not (yet) under a signature. */
        unsigned: { from: number; to: number } | null;
      };
    }
  | {
      ok: false;
      records: number;
      /** 1-based line number of the first bad record (one past the end when records are missing from the end). */
      badIndex: number;
      /** Completes "record N (line N) …", e.g. "was altered: hash mismatch". */
      reason: string;
    };

/** There is neither a log nor a head at the path given: nothing to check. */
export class AuditLogMissingError extends Error {
  override readonly name = 'AuditLogMissingError';
  constructor(readonly file: string) {
    super(`There is no audit log at ${file}.`);
  }
}

/** One line of an audit file: the record, or why it is not one. */
export type AuditLine = { line: number; text: string } & ({ record: AuditRecord } | { problem: string });

/** Bytes read per step: the verifier's memory stays about this plus the longest line, whatever the file's size. */
const CHUNK = 1024 * 1024;
/** A line longer than this is not a record Deputy wrote; refusing it keeps memory bounded on a hostile file. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const TORN = 'is incomplete: the log does not end with a line break (a write was cut short)';

/**
 * Calls `onLine` with each line of `handle` in `[0, limit)` (without its line break) and its 1-based number, reading
 * `CHUNK` bytes at a time; `onLine` returning false stops early. A last line without a line break is passed with
 * `complete` false. Lines past `MAX_LINE_BYTES` are passed truncated to nothing with `tooLong`.
 */
async function forEachLine(
  handle: fs.FileHandle,
  limit: number,
  onLine: (bytes: Buffer, line: number, flags: { complete: boolean; tooLong: boolean }) => boolean,
): Promise<void> {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let skipping = false;
  let line = 0;
  let pos = 0;
  while (pos < limit) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(CHUNK, limit - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const view = chunk.subarray(0, bytesRead);
    let start = 0;
    for (let nl = view.indexOf(0x0a, start); nl !== -1; nl = view.indexOf(0x0a, start)) {
      line++;
      let bytes: Buffer;
      if (carryBytes === 0 && !skipping) bytes = view.subarray(start, nl);
      else bytes = skipping ? Buffer.alloc(0) : Buffer.concat([...carry, view.subarray(start, nl)]);
      const tooLong = skipping || bytes.length > MAX_LINE_BYTES;
      carry = [];
      carryBytes = 0;
      skipping = false;
      start = nl + 1;
      if (!onLine(tooLong ? Buffer.alloc(0) : bytes, line, { complete: true, tooLong })) return;
    }
    if (start < bytesRead && !skipping) {
      // The rest of this chunk belongs to a line that continues in the next one: copy it out of the reused buffer.
      carry.push(Buffer.from(view.subarray(start)));
      carryBytes += bytesRead - start;
      if (carryBytes > MAX_LINE_BYTES) {
        carry = [];
        carryBytes = 0;
        skipping = true;
      }
    }
  }
  if (carryBytes > 0 || skipping) {
    line++;
    onLine(skipping ? Buffer.alloc(0) : Buffer.concat(carry), line, { complete: false, tooLong: skipping });
  }
}

/** The record on one line, or why it is not one. */
function parseLine(bytes: Buffer, flags: { complete: boolean; tooLong: boolean }): { record: AuditRecord; text: string } | { problem: string; text: string } {
  if (flags.tooLong) return { problem: `is longer than ${MAX_LINE_BYTES} bytes, which no record is`, text: '' };
  const text = bytes.toString('utf8');
  if (!flags.complete) return { problem: TORN, text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'is not valid JSON', text };
  }
  const problem = shapeProblem(value);
  return problem === null ? { record: value as AuditRecord, text } : { problem, text };
}

async function openOrNull(file: string): Promise<fs.FileHandle | null> {
  try {
    return await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Checks the chain in `file` against itself and its `audit.head`, reading the file once, a chunk at a time (a trail
 * of any size verifies in bounded memory). Throws only when neither exists.
 */
export interface VerifyOptions {
  /**
   * Ed25519 public keys the chain's digests must verify with. With keys, a chain without any digest fails (nothing
   * in it is signed: a chain replaced wholesale looks exactly like that).
   */
  publicKeys?: readonly KeyObject[];
  /** With keys: records after the newest digest fail too (for a trail whose tasks have all ended). */
  requireSigned?: boolean;
}

/**
 * The head and the log's length as of one moment. On a live trail an append announces itself in the head, writes,
 * then confirms: read carelessly, a head read just before an append and a length read just after would show a
 * record "written behind Deputy's back". The head is read again after the length: unchanged, no append started in
 * between (every append changes it first), so the two agree. A trail appended to without pause is read under the
 * writers' lock instead (or, where Deputy cannot lock, as it is).
 */
async function snapshot(file: string): Promise<{ headText: string | null; handle: fs.FileHandle | null; size: number }> {
  const read = async () => {
    const headText = await readOrNull(headPathFor(file));
    const handle = await openOrNull(file);
    const size = handle === null ? 0 : (await handle.stat()).size;
    return { headText, handle, size };
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const taken = await read();
    if ((await readOrNull(headPathFor(file))) === taken.headText) return taken;
    await taken.handle?.close();
    await sleep(attempt);
  }
  try {
    return await withFileLock(`${file}.lock`, read, { timeoutMs: 5_000 });
  } catch {
    return read();
  }
}

export async function verifyAudit(file: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const publicKeys = options.publicKeys ?? [];
  const digests = new DigestChecker(publicKeys);
  const { headText, handle, size } = await snapshot(file);
  if (handle === null && headText === null) throw new AuditLogMissingError(file);
  try {
    const head = headText === null ? null : parseHead(headText);
    // A pending marker the log's bytes match: a crash during an append (audit-head.ts), not a forgery.
    let effective: AuditHead | null = head;
    let limit = size;
    let torn: PendingBatch | null = null;
    if (head?.pending && handle !== null) {
      const p = head.pending;
      const { state } = await readPendingState(handle, p, size);
      if (state === 'written') effective = { seq: p.seq, hash: p.hash };
      if (state === 'torn') {
        torn = p;
        limit = p.offset;
      }
    }

    let records = 0;
    let failure: Extract<VerifyResult, { ok: false }> | null = null;
    let prevHash = GENESIS_PREV;
    let last: AuditRecord | null = null;
    if (handle !== null) {
      await forEachLine(handle, limit, (bytes, line, flags) => {
        const parsed = parseLine(bytes, flags);
        if ('problem' in parsed) {
          failure = { ok: false, records, badIndex: line, reason: parsed.problem };
          return false;
        }
        const { record } = parsed;
        if (recordHash(record) !== record.hash) {
          failure = { ok: false, records, badIndex: line, reason: 'was altered: hash mismatch' };
          return false;
        }
        if (record.seq !== line) {
          const how = record.seq > line ? 'removed or reordered' : 'inserted or reordered';
          failure = {
            ok: false,
            records,
            badIndex: line,
            reason: `is out of sequence (carries seq ${record.seq}, expected ${line}): records were ${how}`,
          };
          return false;
        }
        if (record.prev !== prevHash) {
          failure = {
            ok: false,
            records,
            badIndex: line,
            reason:
              line === 1
                ? 'does not start the chain (prev mismatch): records before it were removed'
                : `does not chain to record ${line - 1} (prev mismatch): a record around it was altered, removed or inserted`,
          };
          return false;
        }
        const digestProblem = digests.check(record);
        if (digestProblem !== null) {
          failure = { ok: false, records, badIndex: line, reason: digestProblem };
          return false;
        }
        // `prev` is the hash of the line's bytes exactly as stored.
        prevHash = sha256Hex(bytes);
        records += 1;
        last = record;
        return true;
      });
    }
    if (failure !== null) return failure;

    if (headText !== null && head === null) {
      return {
        ok: false,
        records,
        badIndex: records + 1,
        reason: 'cannot be ruled out: audit.head is damaged, so records cut off the end of the log would not show',
      };
    }
    const problem = tailProblem(effective, last, headRequired(file));
    if (problem) return { ok: false, records, ...problem };
    const result: VerifyResult = { ok: true, records, tailChecked: head !== null || records <= 1 };
    if (torn) result.interrupted = { from: records + 1, to: torn.seq };
    if (publicKeys.length > 0) {
      const summary = digests.summary();
      if (records > 0 && summary.digests === 0) {
        return {
          ok: false,
          records,
          badIndex: 1,
          reason:
            'is not covered by any signed digest: nothing in this chain is signed (it was written without a signing ' +
            'key, or the chain was replaced and its digests left out)',
        };
      }
      const unsigned = summary.signedThrough < records ? { from: summary.signedThrough + 1, to: records } : null;
      if (unsigned !== null && options.requireSigned) {
        return {
          ok: false,
          records,
          badIndex: unsigned.from,
          reason: `is not covered by a signed digest (records ${unsigned.from}–${unsigned.to} come after the newest one)`,
        };
      }
      result.signatures = { ...summary, unsigned };
    }
    return result;
  } finally {
    await handle?.close();
  }
}

/** Every record in `file`, in order. Throws naming the line when one is not a record; does not check the chain. */
export async function readAudit(file: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (const line of await readAuditLines(file)) {
    if ('problem' in line) throw new Error(`${file}: line ${line.line} ${line.problem}.`);
    records.push(line.record);
  }
  return records;
}

/** Every line of `file` with its record or its problem; for callers that want what can be read of a damaged log. */
export async function readAuditLines(file: string): Promise<AuditLine[]> {
  const text = await readOrNull(file);
  if (text === null) throw new AuditLogMissingError(file);
  return splitLines(text);
}

function splitLines(text: string): AuditLine[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const complete = parts[parts.length - 1] === '';
  if (complete) parts.pop();
  return parts.map((part, i): AuditLine => {
    const parsed = parseLine(Buffer.from(part, 'utf8'), { complete: complete || i < parts.length - 1, tooLong: false });
    return { line: i + 1, ...parsed };
  });
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
