/**
 * The boundary between the VS Code extension (the language client) and Deputy's language server (src/server), which
 * hosts the engine. Both sides import this file: every custom request and notification is declared here once, as a
 * namespace with a literal `method` and a typed `type`, and a doc comment saying which side sends it and why. No
 * method name is a bare string anywhere else.
 *
 * What never crosses this pipe: a credential. The server resolves AWS credentials itself; API keys from VS Code's
 * SecretStorage reach the server process at spawn through a 0600 file (see `SECRET_FILE_ENV`), never as a message.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { BudgetAmount, BudgetMeterView, BudgetScope, EngineEvent, ErrorAction, ErrorKind } from './events.js';
import type { ChangesetFileResult, ConflictReport, FileDecision, PromptDecision, ReviewVerdict } from './events.js';
import type { AuditTimelineData, PanelError, ReviewAllVerdict, SessionSummary } from './webview.js';

/**
 * The environment variable naming the secrets file the extension writes (mode 0600, in a fresh 0700 folder) before it
 * starts the server. The server reads it once at start, deletes it, and keeps the keys in memory only.
 */
export const SECRET_FILE_ENV = 'DEPUTY_SECRET_FILE';

/** What the secrets file holds: JSON, every field optional. */
export interface ServerSecrets {
  /** The embedded runtime's upstream model key (`deputy.setApiKey` → "model"). */
  modelApiKey?: string;
  /** The OpenAI API key for `deputy.endpoint: openai` (`deputy.setApiKey` → "openai"). */
  openaiApiKey?: string;
  /** The Ed25519 private key (PEM) that signs audit digests (`deputy.setAuditSigningKey`). */
  auditSigningKey?: string;
}

/** The settings the server needs, read and normalised by the extension's settings module (DESIGN.md §9). */
export interface ServerSettings {
  /** `embedded`, `openai`, `bedrock`, or the URL of a Deputy runtime. */
  endpoint: string;
  bedrockRegion?: string;
  bedrockProfile?: string;
  model: string;
  embeddedModelBaseUrl: string;
  embeddedModelApi: 'responses' | 'chat';
  /** A variable in the server's environment holding the upstream model's key (SecretStorage wins over it). */
  embeddedModelApiKeyEnv?: string;
  /** The bearer token file of a Deputy runtime at a URL endpoint. */
  runtimeTokenFile?: string;
  promptTimeoutMinutes: number;
  /** Most tool calls one turn may make (`deputy.turns.maxSteps`); the engine's default when absent. */
  maxStepsPerTurn?: number;
  /** Most permission prompts one turn may ask (`deputy.turns.maxPrompts`); the engine's default when absent. */
  maxPromptsPerTurn?: number;
  budgetPerTaskUsd?: number;
  /** `deputy.budget.perTask` (dollars or tokens); wins over `budgetPerTaskUsd`. */
  budgetPerTask?: BudgetAmount;
  /** `deputy.budget.perDay`: every session of this person on this machine today. */
  budgetPerDay?: BudgetAmount;
  /** `deputy.budget.prices`: USD per million tokens by model, over Deputy's price table. */
  prices?: Record<string, { input: number; cachedInput?: number; output: number }>;
  /** False in an untrusted workspace: the workspace's `.deputy/policy.json` is ignored and every tool asks. */
  workspaceTrusted: boolean;
  /** `deputy.policy.orgFile`: the organisation's policy file (else the server's `DEPUTY_ORG_POLICY`). */
  policyOrgFile?: string;
  /**
   * `deputy.environment.allowUnsandboxed`: with Deputy as the agent's environment and no command sandbox on this
   * machine, the agent's commands run bare (still under policy and approval) instead of being refused.
   */
  environmentAllowUnsandboxed?: boolean;
  /** The task code lenses (`deputy.codeLens.*`); absent or disabled: the server asks for no document at all. */
  codeLens?: CodeLensSettings;
}

/** `deputy.codeLens.*`, normalised by the extension. */
export interface CodeLensSettings {
  enabled: boolean;
  /** Comment markers that make a task, matched literally at the start of a comment (`TODO(agent):`, `AGENT:`). */
  markers: string[];
}

/** Sent as the LSP `initializationOptions`. */
export interface ServerInitOptions {
  settings: ServerSettings;
  /**
   * Profiles the person signed out of in Deputy (kept by the extension across windows): the server does not use their
   * cached sign-in until the person signs in from Deputy again. The AWS CLI's cache itself is never touched.
   */
  signedOutProfiles?: string[];
  /** Deputy's version as the extension knows it, for the provenance of sessions (`deputy.client`). */
  clientVersion: string;
  /**
   * The client implements `deputy/readWorkspaceFiles` and `deputy/applyWorkspaceEdit`: approved changes and reverts
   * go through the editor (unsaved buffers seen, one Undo per set). Absent or false: the server writes the disk.
   */
  editorFiles?: boolean;
}

/** A refused request: worded for a person, with the one action that helps. Never raw SDK text, never a secret. */
export interface RequestFailure {
  failure: { kind: ErrorKind; message: string; action?: ErrorAction };
}

export namespace StartTask {
  export const method = 'deputy/startTask' as const;
  /**
   * Sent by the client when a person dispatches a task (panel, `deputy.newTask`, the `@deputy` chat participant).
   * The server connects to the endpoint (starting the embedded runtime on first use), creates the session and
   * answers with its id as soon as the endpoint confirms it; the turn goes on and reports through `SessionEvents`.
   */
  export interface Params {
    prompt: string;
    /** The workspace folder's URI (multi-root: each folder is its own workspace); the first folder when absent. */
    folderUri?: string;
    /** Overrides `deputy.model` for this task. */
    model?: string;
    budgetUsd?: number;
    /** This task's budget in dollars or tokens; wins over `budgetUsd`. */
    budget?: BudgetAmount;
    /** Text the person attached (selection or file), already read by the client; sent to the agent with the task. */
    context?: { label: string; text: string };
    /**
     * Deputy is the agent's execution environment (DESIGN.md §2 B): the session is `self_hosted`, the agent works with
     * the endpoint's own tools in a shadow of the folder, and what it changed there is reviewed after every turn
     * through the same changeset review as `propose_changes`. Absent or false: Deputy's client tools.
     */
    environment?: boolean;
  }
  export type Result = { sessionId: string } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace RaiseBudget {
  export const method = 'deputy/raiseBudget' as const;
  /**
   * Sent by the client when a person sets a new budget for a session's task or for today (the panel's "Raise
   * budget", the `deputy.raiseBudget` command, "Dispatch with options…" never: that sets a budget at the start).
   * Only a person's gesture sends it; the server records it on the audit trail with the person as actor, lifts the
   * stop when the new limit is above what was spent, and raises the endpoint's `spend_control` with it.
   */
  export interface Params {
    sessionId: string;
    scope: BudgetScope;
    to: BudgetAmount;
  }
  export type Result = { meters: BudgetMeterView[] } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace FollowUp {
  export const method = 'deputy/followUp' as const;
  /** Sent by the client when a person sends another message in a session; starts a new turn once the last one ended. */
  export interface Params {
    sessionId: string;
    text: string;
  }
  export type Result = { accepted: true } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace StopSession {
  export const method = 'deputy/stop' as const;
  /**
   * Sent by the client on Stop (button, Esc, `deputy.stop`): asks the endpoint to cancel the session's turn at once,
   * and withdraws the session's open prompts and reviews (each a deny).
   */
  export interface Params {
    sessionId: string;
  }
  export interface Result {
    /** False when the session had no turn running. */
    stopped: boolean;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace StopAll {
  export const method = 'deputy/stopAll' as const;
  /**
   * Sent by the client for `deputy.stopAll`: pulls the person's kill switch (`src/core/kill-switch.ts`), so every
   * Deputy process on this machine — this window's server, other windows', every `deputy run` and `deputy environment
   * serve` — stops its sessions; then, as `deputy stop --all` does, stops on every remembered endpoint the sessions
   * whose process is gone (a window closed by a crash, a killed run: `src/cli/stop-orphans.ts`). Answers once they
   * all reported stopped (or the wait ran out).
   */
  export interface Result {
    /** Sessions stopped, over every process that answered. */
    stopped: number;
    /** Processes that answered, and how many did not in time. */
    processes: number;
    silent: number;
    /** Sessions whose process was gone, stopped at their endpoints (and how many had not reported stopped in time). */
    orphaned: number;
    orphanedLate: number;
    /** Remembered endpoints that could not be reached (their description and why; the reason is redacted). */
    unreachable: Array<{ endpoint: string; reason: string }>;
    /** From the gesture to the last session reporting stopped. */
    elapsedMs: number;
  }
  export const type = new RequestType0<Result, void>(method);
}

export namespace ListSessions {
  export const method = 'deputy/listSessions' as const;
  /**
   * Sent by the client when the panel opens, after a server restart, or for `deputy.showSessions`. With `attach`,
   * the server also asks each folder's endpoint for its sessions (filtered by Deputy's metadata for that folder) and
   * reattaches to those still running, so their prompts come back; otherwise it answers from what it hosts.
   */
  export interface Params {
    attach: boolean;
  }
  export interface Result {
    sessions: SessionSummary[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SessionEventLog {
  export const method = 'deputy/sessionEvents' as const;
  /**
   * Sent by the client when it shows a session (selection, a panel reopened, a reload): every event after `afterSeq`.
   * For a session this server process attached to, the first events rebuild the transcript from the endpoint's
   * durable items.
   */
  export interface Params {
    sessionId: string;
    afterSeq: number;
  }
  export type Result = { events: EngineEvent[] } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace AnswerPrompt {
  export const method = 'deputy/answerPrompt' as const;
  /**
   * Sent by the client when a person answers a permission prompt (panel or notification). It counts only for the open
   * prompt with this exact binding; anything else is refused and approves nothing.
   */
  export interface Params {
    sessionId: string;
    binding: string;
    decision: PromptDecision;
    comment?: string;
  }
  export interface Result {
    accepted: boolean;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ProposedFile {
  export const method = 'deputy/proposedFile' as const;
  /** Sent by the client to open a proposed file in VS Code's diff editor: its content now and after the change. */
  export interface Params {
    sessionId: string;
    changesetId: string;
    binding: string;
  }
  export type Result = { path: string; before: string; after: string } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ReviewChangeset {
  export const method = 'deputy/reviewChangeset' as const;
  /**
   * Sent by the client when a person decides files of a proposed changeset (the card, the diff editor's title
   * actions, a hunk's code lens, "Approve all" / "Reject all" / "Request changes"). Decisions accumulate: the
   * changeset is applied only once every file has one, approved and kept-hunk files together, and the result comes as
   * `changeset.applied`. Each decision counts only for a file of that changeset with that binding and no decision yet;
   * anything else is refused and decides nothing. `comment` is a general comment on the whole changeset, for the
   * agent; `rest` decides every file not named in `files` (e.g. "Approve all" after keeping hunks of one file).
   */
  export interface Params {
    sessionId: string;
    changesetId: string;
    files: FileDecision[];
    rest?: 'approve' | 'reject' | 'requestChanges';
    comment?: string;
  }
  export interface Result {
    /** The bindings whose decision was taken. */
    accepted: string[];
    /** Decisions refused, with why (unknown binding, already decided, unknown hunk id, `redo` on a file not in conflict). */
    refused: { binding: string; reason: string }[];
    /** Files still waiting for a decision; 0 means the changeset is being applied. */
    undecided: number;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ReviewFiles {
  export const method = 'deputy/reviewFiles' as const;
  /**
   * Sent by the client when a person approves or rejects files of a proposed changeset (one file, or all the files
   * they saw at once). Each verdict counts only for a file of that changeset with that binding. The coarse form of
   * `ReviewChangeset`, kept for the card of issue 7.
   */
  export interface Params {
    sessionId: string;
    changesetId: string;
    bindings: string[];
    verdict: ReviewAllVerdict | ReviewVerdict;
    comment?: string;
  }
  export interface Result {
    /** The bindings that were open and took the verdict. */
    accepted: string[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/** One changeset waiting for a person, for the "Changes" tree view and its badge. */
export interface PendingChangeset {
  sessionId: string;
  changesetId: string;
  /** The task as the person wrote it. */
  task: string;
  /** The workspace folder's name. Not agent-made. */
  folder: string;
  /** Agent-made. */
  summary: string;
  round: number;
  source: 'proposeChanges' | 'environment';
  files: { binding: string; path: string; state: 'ready' | 'invalid' | 'conflict'; added: number; removed: number; decided: boolean }[];
  /** ISO 8601 UTC. */
  deadline: string;
}

export namespace PendingChangesets {
  export const method = 'deputy/pendingChangesets' as const;
  /** Sent by the client when the "Changes" tree view opens or after a server restart: every changeset still open. */
  export interface Result {
    changesets: PendingChangeset[];
  }
  export const type = new RequestType0<Result, void>(method);
}

export namespace ChangesetsChanged {
  export const method = 'deputy/changesetsChanged' as const;
  /** Sent by the server whenever a changeset opens, a file of one is decided, or one closes: the tree and its badge. */
  export interface Params {
    changesets: PendingChangeset[];
  }
  export const type = new NotificationType<Params>(method);
}

export namespace ConflictVersions {
  export const method = 'deputy/conflictVersions' as const;
  /**
   * Sent by the client to show a conflict: the file as the agent read it (its base, when still known), as it is now
   * (from the editor's buffer when open), and the agent's proposal, so both versions can be diffed.
   */
  export interface Params {
    sessionId: string;
    changesetId: string;
    binding: string;
  }
  export type Result = { path: string; base: string | null; current: string | null; proposed: string | null; conflict: ConflictReport } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

/** A task whose applied changes can be reverted: what `deputy revert` and "Revert this task's changes" act on. */
export interface RevertableTask {
  taskId: string;
  /** The sessions of the task whose changes were applied. */
  sessionIds: string[];
  /** ISO 8601 UTC of the last apply. */
  appliedAt: string;
  files: string[];
}

export namespace RevertableTasks {
  export const method = 'deputy/revertableTasks' as const;
  /** Sent by the client to list, per folder, the tasks with applied changes kept under `.deputy/` (survives restarts). */
  export interface Params {
    folderUri?: string;
  }
  export interface Result {
    tasks: RevertableTask[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace RevertTask {
  export const method = 'deputy/revertTask' as const;
  /**
   * Sent by the client for "Revert this task's changes": puts back every file the task's applied changesets wrote,
   * from the pre-images kept under `.deputy/`. A file changed since it was applied is a conflict and is left alone;
   * the others are restored together (through `ApplyWorkspaceEdit`, so one Undo undoes the revert).
   * `id` is a task id or a session id of the task.
   */
  export interface Params {
    folderUri?: string;
    id: string;
  }
  export type Result = { results: ChangesetFileResult[] } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

/** One file edit of `ApplyWorkspaceEdit`: the whole new content of one file, guarded by what it must be now. */
export interface WorkspaceFileEdit {
  /** Relative to the folder, `/`-separated. */
  path: string;
  kind: 'create' | 'update' | 'delete';
  /** SHA-256 (UTF-8) of the text the file must have now (open buffer or disk); null: the file must not exist. */
  expectedSha256: string | null;
  /** The new text; null for a delete. */
  content: string | null;
}

/** What happened to one edit. */
export interface WorkspaceFileEditResult {
  path: string;
  status: 'applied' | 'conflict' | 'failed';
  /** For conflict/failed: worded for a person. */
  reason?: string;
  /** For conflict: the SHA-256 of the text the file has now (null: missing). */
  currentSha256?: string | null;
}

export namespace ApplyWorkspaceEdit {
  export const method = 'deputy/applyWorkspaceEdit' as const;
  /**
   * Sent by the server (the workspace file-system port in the editor) to write an approved changeset or a revert:
   * the client checks every file's current text (its unsaved buffer when open) against `expectedSha256`; when all
   * match it applies every edit in ONE `WorkspaceEdit` (labelled `label`, so one Undo reverts the set) and saves the
   * files; when any differs it applies nothing and answers each file's status (`conflict` for the mismatches,
   * `failed` with reason "not applied: another file conflicted" for the rest), so the server can report and retry
   * the others. Never overwrites a person's unsaved edit.
   */
  export interface Params {
    folderUri: string;
    label: string;
    edits: WorkspaceFileEdit[];
  }
  export interface Result {
    results: WorkspaceFileEditResult[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ReadWorkspaceFiles {
  export const method = 'deputy/readWorkspaceFiles' as const;
  /**
   * Sent by the server (the workspace file-system port) to read files as the person sees them: an open document's
   * unsaved text, else the disk. Used to re-anchor kept hunks and to check for conflicts before an apply.
   */
  export interface Params {
    folderUri: string;
    paths: string[];
  }
  export interface Result {
    files: { path: string; content: string | null; sha256: string | null; dirty: boolean }[];
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace Configure {
  export const method = 'deputy/configure' as const;
  /**
   * Sent by the client when a `deputy.*` setting or the workspace's trust changes. New tasks use the new settings;
   * running sessions keep the endpoint they started on.
   */
  export const type = new NotificationType<ServerSettings>(method);
}

export namespace VerifyAudit {
  export const method = 'deputy/verifyAudit' as const;
  /** Sent by the client for `deputy.verifyAudit`: checks a folder's audit chain as `deputy audit verify` does. */
  export interface Params {
    folderUri: string;
  }
  export interface Result {
    ok: boolean;
    /** What the check found, worded for a person. */
    message: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace Report {
  export const method = 'deputy/report' as const;
  /**
   * Sent by the client for `deputy.report`: writes the governance report (`deputy report --html`) of the given
   * folders' audit trails to `out`. The server reads and verifies the trails, so the extension host never does.
   */
  export interface Params {
    folderUris: string[];
    out: string;
    /** ISO 8601: only sessions that started at or after it. */
    since?: string;
  }
  export interface Result {
    ok: boolean;
    message: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ExportAudit {
  export const method = 'deputy/exportAudit' as const;
  /** Sent by the client for `deputy.exportAudit`: writes a folder's verified trail to `out` (jsonl or OTLP/JSON). */
  export interface Params {
    folderUri: string;
    format: 'jsonl' | 'otlp';
    out: string;
  }
  export interface Result {
    ok: boolean;
    message: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

/**
 * The task code lenses use the standard `textDocument/codeLens` request. The server registers it, and the document
 * sync it needs, dynamically (`client/registerCapability`) only while `deputy.codeLens.enabled` is on, so with the
 * feature off no document crosses the pipe. Each lens runs one of these client commands with the arguments below.
 */
export namespace TaskLens {
  /** "Dispatch to agent": the marker's text is the task; the client attaches the enclosing symbol and the file. */
  export const dispatch = 'deputy.dispatchMarker' as const;
  /** "Dispatch with options…": the same, after quick picks for endpoint, model and budget. */
  export const dispatchWithOptions = 'deputy.dispatchMarkerWithOptions' as const;
  /** "Review N agent changes": opens the session whose changeset touches this file. */
  export const review = 'deputy.reviewChanges' as const;
  export interface DispatchArgs {
    uri: string;
    /** 0-based lines of the marker and of the last line its text continues on. */
    line: number;
    endLine: number;
    marker: string;
    task: string;
  }
  export interface ReviewArgs {
    sessionId: string;
  }
}

export namespace AuditTimeline {
  export const method = 'deputy/auditTimeline' as const;
  /**
   * Sent by the client when the panel shows a session's audit timeline (and again to refresh it). The server reads the
   * session's folder trail, verifies the whole chain itself (never the extension host), and answers with that
   * session's records as timeline entries and the chain's integrity.
   */
  export interface Params {
    sessionId: string;
  }
  export type Result = AuditTimelineData | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SessionEvents {
  export const method = 'deputy/events' as const;
  /**
   * Sent by the server as a session's engine events happen (batched per tick, in `seq` order). The client relays
   * them to the panel, the chat participant and the notifications for prompts.
   */
  export interface Params {
    sessionId: string;
    events: EngineEvent[];
  }
  export const type = new NotificationType<Params>(method);
}

export namespace SessionsChanged {
  export const method = 'deputy/sessionsChanged' as const;
  /** Sent by the server whenever a session starts, changes status or its pending prompts change. */
  export interface Params {
    sessions: SessionSummary[];
  }
  export const type = new NotificationType<Params>(method);
}

export namespace ServerStatus {
  export const method = 'deputy/status' as const;
  /** Sent by the server when its health changes (the embedded runtime starting, an endpoint failing): the status item. */
  export interface Params {
    health: 'ok' | 'starting' | 'error';
    /** One line, worded for a person. */
    message: string;
    runningSessions: number;
    /** An error outside any session (the endpoint unreachable at start), for the panel. */
    error?: PanelError;
  }
  export const type = new NotificationType<Params>(method);
}

/** Warn this long before the sign-in runs out (the status item turns to the warning colour, one notification). */
export const EXPIRY_WARNING_MS = 15 * 60_000;

/**
 * Who Deputy acts as, for the status item. Facts only, never a credential: the principal STS names, the profile, and
 * when the sign-in runs out. `expiry` is the server's judgement on its own clock, so every front end agrees on it.
 */
export interface IdentityStatus {
  /**
   * `none`: no AWS profile is in use (the actor is the local user); `checking`: being resolved; `signedIn`: the
   * principal is known; `signInRequired`: a person must sign in (`reason` says why); `unavailable`: credentials could
   * not be resolved for another reason (`message`).
   */
  state: 'none' | 'checking' | 'signedIn' | 'signInRequired' | 'unavailable';
  profile?: string;
  /** The SSO profile whose sign-in `profile` depends on, when it is another (a role assumed from an SSO profile). */
  ssoProfile?: string;
  principal?: {
    arn: string;
    account: string;
    roleName?: string;
    /** For SSO, usually the person's user name. */
    sessionName?: string;
  };
  /** ISO time when a person must act again: the SSO sign-in's expiry, else the credentials' own. Absent: no expiry. */
  expiresAt?: string;
  /** `expiring`: within `EXPIRY_WARNING_MS` of `expiresAt`. */
  expiry: 'none' | 'ok' | 'expiring' | 'expired';
  /** The sign-in renews without a person (a refresh token is cached): the server renews it when it starts expiring. */
  renewable?: boolean;
  reason?: 'missing' | 'expired' | 'rejected' | 'signedOut';
  /** Worded for a person, for `signInRequired` and `unavailable`. */
  message?: string;
}

export namespace IdentityChanged {
  export const method = 'deputy/identity' as const;
  /**
   * Sent by the server whenever the acting identity or its expiry state changes: at start, on a settings change, on
   * sign-in and sign-out, when the sign-in enters the warning window and when it runs out (timers on the server's clock).
   */
  export const type = new NotificationType<IdentityStatus>(method);
}

export namespace GetIdentity {
  export const method = 'deputy/getIdentity' as const;
  /** Sent by the client for the status item's menu and "Refresh": with `refresh`, the server resolves the identity anew. */
  export interface Params {
    refresh: boolean;
  }
  export const type = new RequestType<Params, IdentityStatus, void>(method);
}

export namespace ListProfiles {
  export const method = 'deputy/listProfiles' as const;
  /** Sent by the client for "Switch profile": the AWS profiles the server finds (no secret, kinds only). */
  export interface Result {
    profiles: Array<{ name: string; kind: string; accountId?: string; roleName?: string; region?: string }>;
    /** The profile in use now. */
    current?: string;
  }
  export const type = new RequestType0<Result, void>(method);
}

export namespace SignIn {
  export const method = 'deputy/signIn' as const;
  /**
   * Sent by the client for "Sign in": the server signs the profile in to IAM Identity Center and writes the AWS CLI's
   * token cache (one sign-in for `aws` and Deputy). `browser`: authorization code + PKCE, the page opened through
   * `OpenExternal`; `deviceCode`: the code and link come as `SignInProgress`. A silent renewal (refresh token) is
   * tried first. Cancellable with `$/cancelRequest`. Sessions paused for this profile resume on success.
   */
  export interface Params {
    profile?: string;
    flow: 'browser' | 'deviceCode';
  }
  export type Result = { identity: IdentityStatus } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SignInProgress {
  export const method = 'deputy/signInProgress' as const;
  /** Sent by the server during a device-code sign-in: what the person must confirm, and where. Not secret. */
  export interface Params {
    profile: string;
    userCode: string;
    verificationUri: string;
    verificationUriComplete?: string;
    /** ISO time the code stops working. */
    expiresAt: string;
  }
  export const type = new NotificationType<Params>(method);
}

export namespace OpenExternal {
  export const method = 'deputy/openExternal' as const;
  /**
   * Sent by the server during a browser sign-in: the client opens the IAM Identity Center page with `env.openExternal`
   * (the server process has no way to a browser of its own in a remote window). The URL carries no secret: a PKCE
   * challenge and state only.
   */
  export interface Params {
    url: string;
  }
  export interface Result {
    opened: boolean;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace SignOut {
  export const method = 'deputy/signOut' as const;
  /**
   * Sent by the client for "Sign out": the server stops using the profile's cached sign-in (new tasks are refused,
   * running sessions pause until a sign-in from Deputy). The AWS CLI's token cache is left as it is.
   */
  export interface Params {
    profile?: string;
  }
  export interface Result {
    identity: IdentityStatus;
    /** The profile signed out, for the client to remember across windows. */
    profile?: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export function isFailure(value: object): value is RequestFailure {
  return 'failure' in value;
}
