/** The shapes a changeset passes through between the agent's proposal, the reviewer and the disk. */
import type { ChangeOperation } from '../../protocol/tools.js';

/** What the agent has read this session: normalized relative path → SHA-256 hex of the whole file when read. */
export type ReadLedger = ReadonlyMap<string, string>;

/** One proposed file after validation: what the reviewer sees and what `applyPreparedFile` writes. */
export interface PreparedFile {
  /** Normalized relative path; for a change whose path could not be read, its printable spelling. */
  path: string;
  /** Where the write lands, relative to the root, when `path` goes through a symlink inside the workspace. */
  realPath?: string;
  operation: ChangeOperation;
  /**
   * `ready`: may be shown for review and applied. `invalid`: the proposal itself is wrong for this file (bad path,
   * diff that does not apply, limits). `conflict`: the file changed since the agent read it.
   */
  status: 'ready' | 'invalid' | 'conflict';
  /** For invalid/conflict: clear and specific, for the agent and the reviewer. */
  reason?: string;
  /** Current content (null for create, or when unreadable). */
  before: string | null;
  /** Content after applying (null for delete, or when not ready). */
  after: string | null;
  /** SHA-256 of the current bytes, re-checked right before writing; null for create or when unreadable. */
  baseSha256: string | null;
  /** For a conflict: SHA-256 of the file as the agent read it (what its proposal was made against). */
  readSha256?: string;
  /** Unified diff before→after with git-style headers for the reviewer; '' when not ready. */
  displayDiff: string;
  rationale?: string;
  stats: { added: number; removed: number };
}

/** Size limits on one proposal, all enforced before anything is read for applying. */
export interface ChangesetLimits {
  /** Files in one proposal; more is refused as a whole. */
  maxFiles: number;
  /** UTF-8 bytes of one file's diff. */
  maxDiffBytes: number;
  /** UTF-8 bytes of one file after the change (and of the file before it). */
  maxFileBytes: number;
  /** UTF-8 bytes of all diffs of one proposal together. */
  maxTotalBytes: number;
}

export const DEFAULT_CHANGESET_LIMITS: ChangesetLimits = Object.freeze({
  maxFiles: 50,
  maxDiffBytes: 1024 * 1024,
  maxFileBytes: 2 * 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024,
});

/**
 * A proposal so malformed that no file can carry the reason: arguments that are not an object, `changes` that is
 * not a non-empty array, or more files than `maxFiles`. The tool call fails with this message.
 */
export class ChangesetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangesetError';
  }
}
