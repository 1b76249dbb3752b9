/**
 * The audit record format: the types, the canonical hashing, and the head file that pins the chain's tail.
 * Shared by the writer (`audit.ts`) and the verifier (`audit-verify.ts`) so both agree byte for byte.
 *
 * The chain (the idea of CloudTrail's log integrity validation):
 * - `hash` is the SHA-256 of the record's canonical JSON (keys sorted at every level, no whitespace)
 *   without the `hash` field, so editing any field of a record breaks its own hash;
 * - `prev` is the SHA-256 of the previous record's line exactly as stored (64 zeros for the first), so a record
 *   cannot be removed, inserted or moved without breaking the next one;
 * - `seq` counts from 1 with no gaps;
 * - `audit.head` beside the log holds the last `seq` and `hash` written, so cutting records off the end is caught;
 *   while an append is under way it also holds a marker of the batch being written (`audit-head.ts`), so a crash
 *   between the log and the head is told apart from a record written behind Deputy's back.
 */
import * as path from 'node:path';
import { parsePending, type HeadFile } from './audit-head.js';
import { sha256Hex } from './workspace-text.js';

/** Who acted: the cloud principal Deputy acts for (DESIGN.md §5), never a credential. */
export interface AuditActor {
  /** The principal ARN from STS `GetCallerIdentity`, or a local user name when no cloud identity is in use. */
  principal: string;
  account?: string;
  /** `deputy/<version>`. */
  client?: string;
}

/**
 * What happened. The `data` fields that readers (the OTLP export, the audit view) understand:
 * - `session.created`: `agent_id?`, `agent_name?`, `model?`, `provider?` (e.g. `openai`, `aws.bedrock`, `deputy`), `endpoint?`
 * - `tool.call`: `call_id`, `tool` (the tool's name), `summary?`
 * - `tool.result`: `call_id`, `tool?`, `success?` (boolean), `error?`
 * - any other record about one tool call (`policy.decision`, `prompt.*`, `changeset.*`, `error`): `call_id`
 * - `policy.decision`: `decision`, `reason`, `policies?` (the deciding policy ids), `trial?` (what log-only policy
 *   sets would have decided: `{decision, policies, reason}`)
 * - `policy.grant`: `grant` (its id), `scope`, `cedar` (the grant as Cedar)
 * - `usage`: `input_tokens?`, `output_tokens?`, `cached_input_tokens?`, `cost_usd?` (for one turn or task, never a
 *   running total; readers sum them), `model?`
 * - `budget.warning`, `budget.reached`: `scope` (`task` | `day`), `unit` (`usd` | `tokens`), `spent`, `limit`
 * - `budget.raised`: `scope`, `unit`, `from`, `to` (a person's gesture; the actor is that person)
 * - `task.finished`: `status?` (`completed` | `failed` | `cancelled`)
 * - `error`: `message`
 * - `audit.digest`: a signed digest of the records before it (`audit-digest.ts`)
 */
export type AuditEventType =
  | 'session.created'
  | 'message.user'
  | 'message.agent'
  | 'tool.call'
  | 'tool.result'
  | 'policy.decision'
  | 'policy.grant'
  | 'prompt.asked'
  | 'prompt.answered'
  | 'changeset.proposed'
  | 'changeset.approved'
  | 'changeset.rejected'
  | 'changeset.applied'
  | 'changeset.conflict'
  | 'changeset.invalid'
  | 'changeset.reverted'
  | 'usage'
  | 'budget.warning'
  | 'budget.reached'
  | 'budget.raised'
  | 'error'
  | 'task.started'
  | 'task.finished'
  | 'identity.resolved'
  | 'audit.digest';

export const AUDIT_EVENT_TYPES: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'session.created',
  'message.user',
  'message.agent',
  'tool.call',
  'tool.result',
  'policy.decision',
  'policy.grant',
  'prompt.asked',
  'prompt.answered',
  'changeset.proposed',
  'changeset.approved',
  'changeset.rejected',
  'changeset.applied',
  'changeset.conflict',
  'changeset.invalid',
  'changeset.reverted',
  'usage',
  'budget.warning',
  'budget.reached',
  'budget.raised',
  'error',
  'task.started',
  'task.finished',
  'identity.resolved',
  'audit.digest',
]);

/** One line of `audit.jsonl`. */
export interface AuditRecord {
  v: 1;
  /** 1-based, no gaps: the record's line number in its file. */
  seq: number;
  /** ISO 8601, UTC. */
  time: string;
  type: AuditEventType;
  session: string | null;
  task: string | null;
  actor: AuditActor;
  /** Event details, already redacted (`redact.ts`). */
  data: Record<string, unknown>;
  /** SHA-256 hex of the previous record's line as stored; 64 zeros for the first record. */
  prev: string;
  /** SHA-256 hex of this record's canonical JSON without `hash`. */
  hash: string;
}

/** The tail of the chain as last written, kept in `audit.head` beside the log. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export const GENESIS_PREV = '0'.repeat(64);

/** JSON with object keys sorted at every level and no whitespace: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Plain loops and string building: this runs for every record `deputy audit verify` reads.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as Array#map + join always rendered it (redaction fills holes before hashing).
      if (i in value) out += canonicalJson(value[i] ?? null);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // Default sort orders strings by UTF-16 code units, the same order as comparing with < and >.
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** The `hash` a record must carry: over every field but `hash` itself. */
export function recordHash(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return sha256Hex(canonicalJson(rest));
}

/** The line stored for a record: fields in reading order (the hash does not depend on it). */
export function formatRecordLine(record: AuditRecord): string {
  const ordered: AuditRecord = {
    v: record.v,
    seq: record.seq,
    time: record.time,
    type: record.type,
    session: record.session,
    task: record.task,
    actor: record.actor,
    data: record.data,
    prev: record.prev,
    hash: record.hash,
  };
  return JSON.stringify(ordered);
}

/** `audit.jsonl` → `audit.head`; any other name gets `.head` in place of its extension. */
export function headPathFor(logFile: string): string {
  const ext = path.extname(logFile);
  return path.join(path.dirname(logFile), `${path.basename(logFile, ext)}.head`);
}

/** Why `value` is not an audit record, or null when its shape is right (the hash is checked elsewhere). */
export function shapeProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.v !== 1) return 'has an unknown format version (field `v`)';
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'has no valid sequence number (field `seq`)';
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) return 'has no valid time (field `time`)';
  if (typeof r.type !== 'string' || !AUDIT_EVENT_TYPES.has(r.type as AuditEventType)) {
    return 'has an unknown event type (field `type`)';
  }
  if (r.session !== null && typeof r.session !== 'string') return 'has an invalid `session`';
  if (r.task !== null && typeof r.task !== 'string') return 'has an invalid `task`';
  const actor = r.actor as Record<string, unknown> | null;
  if (actor === null || typeof actor !== 'object' || typeof actor.principal !== 'string') {
    return 'has no actor principal (field `actor.principal`)';
  }
  if (r.data === null || typeof r.data !== 'object' || Array.isArray(r.data)) return 'has invalid `data`';
  if (typeof r.prev !== 'string' || !/^[0-9a-f]{64}$/.test(r.prev)) return 'has an invalid `prev` hash';
  if (typeof r.hash !== 'string' || !/^[0-9a-f]{64}$/.test(r.hash)) return 'has an invalid `hash`';
  return null;
}

/**
 * Whether a log without `audit.head` must be treated as damaged. Deputy writes the head after every append, so a
 * workspace chain (`.deputy/audit/`) with more than one record and no head has had it deleted, and a cut-off tail
 * could hide behind that: reported. One record and no head is the window between the first line and the first head
 * write (a crash there), accepted. A copy elsewhere (an export, a file handed to a reviewer) carries no head:
 * accepted, and the verifier says the tail was not checked.
 */
export function headRequired(logFile: string): boolean {
  const dir = path.dirname(path.resolve(logFile));
  return path.basename(dir) === 'audit' && path.basename(path.dirname(dir)) === '.deputy';
}

/** A break between the chain's last record and its head: the 1-based line it concerns and why. */
export interface TailProblem {
  badIndex: number;
  reason: string;
}

/**
 * Compares the head with the chain's last record (`last` null for an empty file). They must agree exactly. A crash
 * between writing records and confirming them is recognised before this check, from the head's pending marker
 * (`audit-head.ts`), and `head` is then the head that marker vouches for; a record past the head here is one no
 * append of Deputy's announced, so it is reported, never assumed to be a crash.
 */
export function tailProblem(
  head: AuditHead | null,
  last: { seq: number; hash: string } | null,
  required: boolean,
): TailProblem | null {
  const count = last?.seq ?? 0;
  if (head === null) {
    if (required && count > 1) {
      return {
        badIndex: count + 1,
        reason: 'cannot be ruled out: audit.head is missing, so records cut off the end of the log would not show',
      };
    }
    return null;
  }
  if (head.seq > count) {
    return {
      badIndex: count + 1,
      reason: `is missing: audit.head says ${head.seq} records were written but the log ends after ${count} (its tail was cut off)`,
    };
  }
  if (head.seq === count && last !== null && head.hash !== last.hash) {
    return { badIndex: count, reason: 'does not match audit.head: the end of the log was replaced' };
  }
  if (head.seq === count - 1) {
    return {
      badIndex: count,
      reason:
        `was added after the last record Deputy confirmed (audit.head ends at record ${head.seq}) and no append of ` +
        "Deputy's announced it: written behind Deputy's back",
    };
  }
  if (head.seq < count - 1) {
    return {
      badIndex: head.seq + 2,
      reason: `was added behind Deputy's back: audit.head says the log ended at record ${head.seq}`,
    };
  }
  return null;
}

/** Parses `audit.head` (with its pending marker, if any: `audit-head.ts`); null when the text is not a head. */
export function parseHead(text: string): HeadFile | null {
  try {
    const value = JSON.parse(text) as Partial<HeadFile>;
    if (Number.isSafeInteger(value.seq) && (value.seq as number) >= 0 && typeof value.hash === 'string') {
      const head: HeadFile = { seq: value.seq as number, hash: value.hash };
      const pending = parsePending(value.pending, head.seq);
      return pending ? { ...head, pending } : head;
    }
  } catch {
    // fall through: a damaged head is reported by the caller
  }
  return null;
}
