/**
 * Checking and reading an audit chain (`deputy audit verify`, the export, the audit view).
 *
 * Verification walks the file once and names the FIRST record that breaks the chain:
 * - a line that is not a record (malformed JSON, wrong fields, a torn last line);
 * - a record whose `hash` does not match its content (edited in place);
 * - a record whose `seq` is not its line number (records removed, inserted or reordered before it);
 * - a record whose `prev` is not the hash of the line before it (a neighbour replaced, removed or inserted with
 *   renumbering);
 * - a chain that disagrees with `audit.head` (records cut off the end, or the end replaced). When the head is
 *   missing see `headRequired` in `audit-record.ts`.
 *
 * Without a key nothing stops someone with write access from rewriting the whole chain and its head; what the chain
 * guarantees is that any partial edit shows, and an exported copy (or its OTLP spans, which carry each record's
 * hash) pins what was there.
 */
import { promises as fs } from 'node:fs';
import {
  GENESIS_PREV,
  headPathFor,
  headRequired,
  parseHead,
  recordHash,
  sha256Hex,
  shapeProblem,
  tailProblem,
  type AuditRecord,
} from './audit-record.js';

export type VerifyResult =
  | {
      ok: true;
      records: number;
      /** False when there was no `audit.head` to compare the end with (an exported copy): a cut-off tail would not show. */
      tailChecked: boolean;
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

/** Checks the chain in `file` against itself and its `audit.head`. Throws only when neither exists. */
export async function verifyAudit(file: string): Promise<VerifyResult> {
  const text = await readOrNull(file);
  const headText = await readOrNull(headPathFor(file));
  if (text === null && headText === null) throw new AuditLogMissingError(file);
  const lines = splitLines(text ?? '');
  let records = 0;
  let previous: AuditLine | null = null;
  for (const line of lines) {
    if ('problem' in line) return { ok: false, records, badIndex: line.line, reason: line.problem };
    const { record } = line;
    if (recordHash(record) !== record.hash) {
      return { ok: false, records, badIndex: line.line, reason: 'was altered: hash mismatch' };
    }
    if (record.seq !== line.line) {
      const how = record.seq > line.line ? 'removed or reordered' : 'inserted or reordered';
      return {
        ok: false,
        records,
        badIndex: line.line,
        reason: `is out of sequence (carries seq ${record.seq}, expected ${line.line}): records were ${how}`,
      };
    }
    const expectedPrev = previous === null ? GENESIS_PREV : sha256Hex(previous.text);
    if (record.prev !== expectedPrev) {
      return {
        ok: false,
        records,
        badIndex: line.line,
        reason:
          previous === null
            ? 'does not start the chain (prev mismatch): records before it were removed'
            : `does not chain to record ${previous.line} (prev mismatch): a record around it was altered, removed or inserted`,
      };
    }
    records += 1;
    previous = line;
  }

  const head = headText === null ? null : parseHead(headText);
  if (headText !== null && head === null) {
    return {
      ok: false,
      records,
      badIndex: records + 1,
      reason: 'cannot be ruled out: audit.head is damaged, so records cut off the end of the log would not show',
    };
  }
  const last = previous !== null && 'record' in previous ? previous.record : null;
  const problem = tailProblem(head, last, headRequired(file));
  if (problem) return { ok: false, records, ...problem };
  return { ok: true, records, tailChecked: head !== null || records <= 1 };
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
  const torn = parts[parts.length - 1] !== '';
  if (!torn) parts.pop();
  return parts.map((part, i): AuditLine => {
    const line = i + 1;
    if (torn && i === parts.length - 1) {
      return { line, text: part, problem: 'is incomplete: the log does not end with a line break (a write was cut short)' };
    }
    let value: unknown;
    try {
      value = JSON.parse(part);
    } catch {
      return { line, text: part, problem: 'is not valid JSON' };
    }
    const problem = shapeProblem(value);
    return problem === null ? { line, text: part, record: value as AuditRecord } : { line, text: part, problem };
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
