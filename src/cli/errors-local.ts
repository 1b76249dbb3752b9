/**
 * The words for errors of Deputy's own engine (policy, audit trail, workspace, its own state folder), and the
 * fallback for anything unexpected. Kept apart from `errors.ts` so a command that never talks to an agent endpoint
 * or AWS (`deputy audit`) does not load the `openai` client and the AWS SDK just to word its errors.
 */
import { redactText, type KnownSecrets } from '../core/redact.js';
import { PolicyError } from '../core/policy.js';
import { AuditIntegrityError } from '../core/audit.js';
import { AuditLogMissingError } from '../core/audit-verify.js';
import { WorkspaceError } from '../core/workspace-error.js';
import { StateDirError } from '../core/state-dir.js';

/** The message of an error that says what happened and what to do in its own words; null for any other. */
export function ownWords(err: unknown, known?: KnownSecrets): string | null {
  if (
    err instanceof PolicyError ||
    err instanceof AuditIntegrityError ||
    err instanceof AuditLogMissingError ||
    err instanceof WorkspaceError ||
    err instanceof StateDirError
  ) {
    return redactText(err.message, known);
  }
  return null;
}

export function describeLocalError(err: unknown, known?: KnownSecrets): string {
  const own = ownWords(err, known);
  if (own !== null) return own;
  const message = err instanceof Error ? err.message : String(err);
  const debug = process.env.DEPUTY_DEBUG && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return redactText(`Deputy stopped on an unexpected error: ${message}${debug}`, known);
}
