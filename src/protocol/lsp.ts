/**
 * The boundary between the VS Code extension (the language client) and Deputy's language server (src/server), which
 * hosts the engine. Both sides import this file: every custom request and notification is declared once, in the
 * module of its area under `lsp/`, as a namespace with a literal `method` and a typed `type`, and a doc comment saying
 * which side sends it and why; this file names them all, so importers need not know the areas. No method name is a
 * bare string anywhere else (test/unit/lsp-methods.test.ts).
 *
 * What never crosses this pipe: a credential. The server resolves AWS credentials itself; API keys from VS Code's
 * SecretStorage reach the server process at spawn through a 0600 file (see `SECRET_FILE_ENV`), never as a message.
 */
export { isFailure } from './lsp/failure.js';
export type { RequestFailure } from './lsp/failure.js';

export { Configure, SECRET_FILE_ENV, ServerStatus } from './lsp/server-setup.js';
export type { CodeLensSettings, ServerInitOptions, ServerSecrets, ServerSettings } from './lsp/server-setup.js';

export {
  AnswerPrompt,
  FollowUp,
  ListSessions,
  SessionEventLog,
  SessionEvents,
  SessionsChanged,
  StartTask,
  StopAll,
  StopSession,
} from './lsp/sessions.js';

export { RaiseBudget } from './lsp/budget.js';

export {
  ChangesetsChanged,
  ConflictVersions,
  PendingChangesets,
  ProposedFile,
  RevertTask,
  RevertableTasks,
  ReviewChangeset,
  ReviewFiles,
} from './lsp/review.js';
export type { PendingChangeset, RevertableTask } from './lsp/review.js';

export { ApplyWorkspaceEdit, ReadWorkspaceFiles } from './lsp/workspace-edit.js';
export type { WorkspaceFileEdit, WorkspaceFileEditResult } from './lsp/workspace-edit.js';

export { AuditTimeline, ExportAudit, Report, VerifyAudit } from './lsp/audit.js';

export { TaskLens } from './lsp/code-lens.js';

export {
  EXPIRY_WARNING_MS,
  GetIdentity,
  IdentityChanged,
  ListProfiles,
  OpenExternal,
  SignIn,
  SignInProgress,
  SignOut,
} from './lsp/identity.js';
export type { IdentityStatus } from './lsp/identity.js';
