/**
 * Reading the untrusted `propose_changes` arguments into per-change entries. Structural problems of the whole
 * proposal either throw ChangesetError (no file to attach them to) or become a reason on every change; problems
 * of one change stay on that change.
 */
import type { ChangeOperation } from '../../protocol/tools.js';
import { printablePath } from '../workspace-paths.js';
import { formatBytes } from '../workspace-text.js';
import { ChangesetError, type ChangesetLimits } from './types.js';

const OPERATIONS: readonly ChangeOperation[] = ['create', 'update', 'delete'];

/** One entry of `changes`, as far as it could be read. */
export interface ProposalEntry {
  index: number;
  /** The path as the agent spelled it (printable), for results when it cannot be normalized. */
  shownPath: string;
  rawPath: unknown;
  /** 'update' stands in when the operation itself is invalid (the entry then has a problem). */
  operation: ChangeOperation;
  diff: string;
  rationale?: string;
  /** Why this entry cannot be applied, if it already cannot. */
  problem?: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readEntry(raw: unknown, index: number): ProposalEntry {
  const label = `changes[${index}]`;
  if (!isRecord(raw)) {
    return { index, shownPath: label, rawPath: undefined, operation: 'update', diff: '', problem: `${label} must be an object with path, operation and diff; got ${describe(raw)}.` };
  }
  const entry: ProposalEntry = {
    index,
    shownPath: typeof raw.path === 'string' ? printablePath(raw.path) : label,
    rawPath: raw.path,
    operation: 'update',
    diff: typeof raw.diff === 'string' ? raw.diff : '',
  };
  if (typeof raw.rationale === 'string') entry.rationale = raw.rationale;
  if (typeof raw.path !== 'string') {
    entry.problem = `${label}.path must be a string relative to the workspace root; got ${describe(raw.path)}.`;
  } else if (typeof raw.operation !== 'string' || !OPERATIONS.includes(raw.operation as ChangeOperation)) {
    const got = typeof raw.operation === 'string' ? JSON.stringify(printablePath(raw.operation)) : describe(raw.operation);
    entry.problem = `${label}.operation must be "create", "update" or "delete"; got ${got}.`;
  } else {
    entry.operation = raw.operation as ChangeOperation;
    if (raw.diff === undefined && entry.operation === 'delete') {
      // A delete carries no diff; a missing one means the same as "".
    } else if (typeof raw.diff !== 'string') {
      entry.problem = `${label}.diff must be a string (a V4A or unified diff, or "" for delete); got ${describe(raw.diff)}.`;
    } else if (raw.rationale !== undefined && typeof raw.rationale !== 'string') {
      entry.problem = `${label}.rationale must be a string when given; got ${describe(raw.rationale)}.`;
    }
  }
  return entry;
}

/**
 * Reads `args` into entries. Throws ChangesetError when `args` is not an object, `changes` is not a non-empty
 * array, or there are more than `limits.maxFiles` changes. A missing summary or an over-limit total puts a
 * problem on every entry.
 */
export function readProposal(args: unknown, limits: ChangesetLimits): ProposalEntry[] {
  if (!isRecord(args)) {
    throw new ChangesetError(`propose_changes takes an object {summary, changes: [{path, operation, diff, rationale?}]}; got ${describe(args)}.`);
  }
  const changes = args.changes;
  if (!Array.isArray(changes)) {
    throw new ChangesetError(`propose_changes needs "changes" as an array of {path, operation, diff}; got ${describe(changes)}.`);
  }
  if (changes.length === 0) throw new ChangesetError('propose_changes got an empty "changes" array; propose at least one file.');
  if (changes.length > limits.maxFiles) {
    throw new ChangesetError(
      `propose_changes got ${changes.length} files; at most ${limits.maxFiles} fit in one proposal so a person can review them. Split the work into smaller proposals.`,
    );
  }
  const entries = changes.map(readEntry);
  let shared: string | undefined;
  const total = entries.reduce((sum, e) => sum + Buffer.byteLength(e.diff, 'utf8'), 0);
  if (typeof args.summary !== 'string' || args.summary.trim() === '') {
    shared = 'The proposal has no "summary"; say in one paragraph what the change does and why, so the reviewer can judge it.';
  } else if (total > limits.maxTotalBytes) {
    shared = `The proposal's diffs total ${formatBytes(total)}, over the ${formatBytes(limits.maxTotalBytes)} limit for one proposal; split it into smaller proposals.`;
  }
  if (shared !== undefined) for (const e of entries) e.problem ??= shared;
  return entries;
}
