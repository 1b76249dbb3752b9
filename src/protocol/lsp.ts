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
import type { EngineEvent, ErrorAction, ErrorKind } from './events.js';
import type { PromptDecision, ReviewVerdict } from './events.js';
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
  budgetPerTaskUsd?: number;
  /** False in an untrusted workspace: the workspace's `.deputy/policy.json` is ignored and every tool asks. */
  workspaceTrusted: boolean;
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
  /** Deputy's version as the extension knows it, for the provenance of sessions (`deputy.client`). */
  clientVersion: string;
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
    /** Text the person attached (selection or file), already read by the client; sent to the agent with the task. */
    context?: { label: string; text: string };
  }
  export type Result = { sessionId: string } | RequestFailure;
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
   * serve` — stops its sessions; answers once they all reported stopped (or the wait ran out).
   */
  export interface Result {
    /** Sessions stopped, over every process that answered. */
    stopped: number;
    /** Processes that answered, and how many did not in time. */
    processes: number;
    silent: number;
    /** From the gesture to the last process reporting its sessions stopped. */
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

export namespace ReviewFiles {
  export const method = 'deputy/reviewFiles' as const;
  /**
   * Sent by the client when a person approves or rejects files of a proposed changeset (one file, or all the files
   * they saw at once). Each verdict counts only for a file of that changeset with that binding.
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

export function isFailure(value: object): value is RequestFailure {
  return 'failure' in value;
}
