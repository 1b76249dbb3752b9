/**
 * The engine's only way to ask a person something: a port. The CLI answers on the terminal; the language server
 * answers from the editor's panel (another process, over the pipe). Every question carries a binding (session +
 * request id + hash of the exact arguments) and an answer counts only when it returns the same binding: an answer
 * meant for one request can never approve another (DESIGN.md §4).
 *
 * Every question has a deadline and can be withdrawn (`ask-within.ts`): the engine passes an `AbortSignal` that
 * aborts when the question times out or its turn stops. A prompter stops asking when it aborts (it stops reading the
 * terminal, closes the panel's card); an answer that arrives after that counts for nothing.
 */
import { createHash } from 'node:crypto';
import type { PreparedFile } from './changeset/index.js';
import type { GrantScope } from './grants.js';
import type { ChangesetReviewAnswer, ChangesetReviewQuestion } from './changeset/review.js';

/** How long a question waits for a person before it is a deny (`deputy.prompts.timeoutMinutes` in the editor). */
export const DEFAULT_QUESTION_TIMEOUT_MS = 15 * 60_000;

/** What the engine gives every question besides the question itself. */
export interface AskOptions {
  /** Aborts when the question is withdrawn (its deadline passed, its turn stopped; `withdrawalOf` says which): stop asking. */
  signal: AbortSignal;
}

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
  /** ISO 8601 UTC: unanswered by then is a deny (the engine always sets it). */
  deadline?: string;
}

export interface PermissionAnswer {
  binding: string;
  allow: boolean;
  /**
   * How far a yes reaches (`grants.ts`): this request (`once`, the default), the same tool on the same path or
   * command for the rest of the task, or in this workspace until revoked. Ignored on a no.
   */
  scope?: GrantScope;
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
  /** ISO 8601 UTC: unanswered by then is a reject (the engine always sets it). */
  deadline?: string;
}

export interface FileReviewAnswer {
  binding: string;
  verdict: 'approve' | 'reject';
  comment?: string;
}

export interface Prompter {
  askPermission(question: PermissionQuestion, options: AskOptions): Promise<PermissionAnswer>;
  reviewFile(question: FileReviewQuestion, options: AskOptions): Promise<FileReviewAnswer>;
  /**
   * The whole changeset in one question, a binding per file (issue 9 §1). A prompter without it is asked file by
   * file through `reviewFile` (the CLI's terminal flow), on top of the same model.
   */
  reviewChangeset?(question: ChangesetReviewQuestion, options: AskOptions): Promise<ChangesetReviewAnswer>;
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
