/**
 * The engine's only way to ask a person something. The CLI answers on the terminal; the editor answers in
 * its panel. Every question carries a binding (session + request id + hash of the exact arguments) and an
 * answer counts only when it returns the same binding: an answer meant for one request can never approve
 * another (DESIGN.md §4).
 */
import { createHash } from 'node:crypto';
import type { PreparedFile } from './changeset/index.js';
import type { ChangesetReviewAnswer, ChangesetReviewQuestion } from './changeset/review.js';

export interface PermissionQuestion {
  binding: string;
  session: string;
  callId: string;
  tool: string;
  /** One line saying what the agent wants to do, e.g. `read .env`. */
  summary: string;
  /** Why the policy asks (the rule or default that decided). */
  reason: string;
  args: unknown;
}

export interface PermissionAnswer {
  binding: string;
  allow: boolean;
}

export interface FileReviewQuestion {
  binding: string;
  session: string;
  callId: string;
  /** The proposal's summary, as the agent wrote it. */
  summary: string;
  file: PreparedFile;
  /** Where the write lands when `file.path` goes through a symlink inside the workspace. */
  realPath?: string;
  index: number;
  total: number;
}

export interface FileReviewAnswer {
  binding: string;
  verdict: 'approve' | 'reject';
  comment?: string;
}

export interface Prompter {
  askPermission(question: PermissionQuestion): Promise<PermissionAnswer>;
  reviewFile(question: FileReviewQuestion): Promise<FileReviewAnswer>;
  /**
   * The whole changeset in one question, a binding per file (issue 9 §1). A prompter without it is asked file by
   * file through `reviewFile` (the CLI's terminal flow), on top of the same model.
   */
  reviewChangeset?(question: ChangesetReviewQuestion): Promise<ChangesetReviewAnswer>;
}

/** Canonical JSON: object keys sorted, so the same arguments always hash the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function bindingFor(session: string, requestId: string, subject: unknown): string {
  return createHash('sha256')
    .update(`${session}\n${requestId}\n${canonicalJson(subject)}`)
    .digest('hex');
}
