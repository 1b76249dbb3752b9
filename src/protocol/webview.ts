/**
 * The boundary between the extension (the webview view's host) and the panel UI (webview/). Both sides import
 * this file; no message type is a bare string elsewhere.
 *
 * Extension → webview (`ToWebview`): state to render. The webview decides nothing: it shows what it is sent and
 * turns a person's gestures into intents.
 * Webview → extension (`FromWebview`): intents. The webview is a browser page that shows agent-made text, so the
 * extension treats every message from it as untrusted: `parseFromWebview` checks every field against the schema
 * below, rejects unknown types and unknown fields, and bounds every string. An answer to a prompt or a review
 * carries the binding the engine issued, so the webview cannot approve anything the engine did not ask.
 */
import {
  BUDGET_SCOPES,
  ERROR_ACTION_KINDS,
  FILE_DECISIONS,
  PROMPT_DECISIONS,
  REVIEW_VERDICTS,
  type BudgetAmount,
  type EngineEvent,
  type ErrorAction,
  type ErrorActionKind,
  type ErrorKind,
  type SessionStatus,
} from './events.js';

// ---------------------------------------------------------------------------------------------------------------
// Extension → webview

/** One row of the sessions list. */
export interface SessionSummary {
  sessionId: string;
  /** The task as the person wrote it. */
  task: string;
  /** `embedded`, `openai`, `bedrock` or a runtime URL. */
  endpoint: string;
  model?: string;
  /** The workspace folder's name (multi-root). */
  folder?: string;
  status: SessionStatus;
  /** ISO 8601 UTC; the webview shows the age from it. */
  startedAt: string;
  costUsd?: number;
  /** Prompts and reviews waiting for the person. */
  pendingPrompts: number;
}

/** The settings a new task would use now, and the choices offered. */
export interface PanelSettings {
  endpoint: string;
  model: string;
  /** `deputy.budget.perTaskUsd`, when set. */
  budgetUsd?: number;
  /** `deputy.budget.perTask` (dollars or tokens), when set; wins over `budgetUsd`. */
  budget?: BudgetAmount;
  /** `deputy.budget.perDay`, when set. */
  budgetPerDay?: BudgetAmount;
  /** Endpoints offered in the picker (the current one included). */
  endpoints: string[];
  /** Models offered in the picker (the current one included); empty when the endpoint does not list them. */
  models: string[];
  /** The workspace folders' names; a task names one (multi-root). */
  folders: string[];
  /** Whether an editor selection / an active file exists to attach. */
  canAttachSelection: boolean;
  canAttachFile: boolean;
  /** `deputy.environment.default`: whether a new task has Deputy as the agent's environment unless changed. */
  environment?: boolean;
}

/** An error not tied to one session's event stream (server down, not signed in, a refused intent). */
export interface PanelError {
  /** Same id, same error: the webview shows it once. */
  errorId: string;
  kind: ErrorKind;
  /** What happened and what to do. */
  message: string;
  action?: ErrorAction;
}

/** Who an audited event belongs to: the person's gestures, the agent's requests, or Deputy's own checks and effects. */
export const AUDIT_ACTOR_KINDS = ['person', 'agent', 'deputy'] as const;
export type AuditActorKind = (typeof AUDIT_ACTOR_KINDS)[number];

/** One audited event of a session, as the timeline shows it (built by src/core/audit-timeline.ts). */
export interface AuditTimelineEntry {
  /** The record's number in the chain (its line in `audit.jsonl`). */
  seq: number;
  /** ISO 8601 UTC. */
  time: string;
  /** The record's type, e.g. `policy.decision`; the timeline filters by it. */
  kind: string;
  actor: AuditActorKind;
  /** The principal the record names (the person's cloud identity Deputy acts for). */
  principal: string;
  tool?: string;
  /** allow / ask / deny, the person's answer, approve / reject, a result's ok / failed, a task's end. */
  decision?: string;
  /** The policy rule or default that decided (`workspace policy rule 2`, `built-in rule`). */
  rule?: string;
  files: string[];
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
  /** A short line about the event (a tool call's summary, a message's start); agent-made, so shown, never obeyed. */
  detail?: string;
}

/** The whole chain's integrity, checked by the server. */
export type AuditIntegrity =
  | { state: 'verified'; records: number; /** False for a copy without `audit.head`: a cut-off tail would not show. */ tailChecked: boolean }
  | { state: 'broken'; records: number; /** 1-based record (line) number of the first bad record. */ badIndex: number; reason: string }
  | { state: 'missing' };

export interface AuditTimelineData {
  sessionId: string;
  /** The trail's path on disk (for "Open audit folder"). */
  file: string;
  entries: AuditTimelineEntry[];
  /** Entries of this session left out at the start to bound the message (the newest are kept). */
  omitted: number;
  integrity: AuditIntegrity;
}

/**
 * A person's review of one file so far, kept by the extension (one home, shown by the panel and the diff editor
 * alike) until the verdict is sent: hunks dropped (every other hunk is kept), marked reviewed, line comments made
 * in the diff editor.
 */
export interface FileReviewDraft {
  /** Hunk ids the person chose to drop; empty means every hunk is kept. */
  dropped: string[];
  /** Marked reviewed in the diff editor or the card; cleared when the proposal changes. */
  reviewed: boolean;
  /** How many line comments wait on the proposed document. */
  lineComments: number;
}

export const TO_WEBVIEW_TYPES = ['state', 'settings', 'events', 'error', 'focusTask', 'audit', 'reviewDrafts', 'server'] as const;
export type ToWebviewType = (typeof TO_WEBVIEW_TYPES)[number];

export type ToWebview =
  /** Sent by the extension on `ready` and whenever the sessions list or the selection changes. */
  | { type: 'state'; sessions: SessionSummary[]; selectedSessionId: string | null }
  /** Sent by the extension on `ready` and whenever a `deputy.*` setting the panel shows changes. */
  | ({ type: 'settings' } & PanelSettings)
  /**
   * Sent by the extension as a session's events arrive (batched), and as a replay when a session is selected
   * (`replace: true`: drop what is shown for that session first). Events are in `seq` order; the webview ignores
   * a seq it has already rendered.
   */
  | { type: 'events'; sessionId: string; events: EngineEvent[]; replace: boolean }
  /** Sent by the extension for an error outside a session's stream, or a refused intent. */
  | { type: 'error'; error: PanelError }
  /** Sent by the extension for `deputy.newTask`: show the new-task form and focus the task box. */
  | { type: 'focusTask'; prompt?: string }
  /** Sent by the extension in answer to `showAudit`: a session's audit timeline and the chain's integrity. */
  | ({ type: 'audit' } & AuditTimelineData)

  /** Sent by the extension whenever a review draft changes (in the panel or the diff editor): every open draft. */
  | { type: 'reviewDrafts'; drafts: Record<string, FileReviewDraft> }
  /**
   * Sent by the extension on `ready` and whenever the language server's state changes. Anything but `running` means
   * the questions on screen were the old server's: none of them can be answered any more (the new server asks again
   * once their sessions reattach). `restart` is true once a server has run in this window.
   */
  | { type: 'server'; state: ServerState; message: string; restart: boolean };

export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

// ---------------------------------------------------------------------------------------------------------------
// Webview → extension: a tiny dependency-free schema checker, then the messages declared with it.

/** Thrown inside a check; `parseFromWebview` turns it into `{ error }`. */
class Invalid extends Error {}

interface Checker<T> {
  (value: unknown, at: string): T;
  optional?: boolean;
}
type Out<C> = C extends Checker<infer T> ? T : never;
type Shape = Record<string, Checker<unknown>>;
type Flatten<T> = { [K in keyof T]: T[K] };
type ObjectOf<S extends Shape> = Flatten<
  { [K in keyof S as S[K] extends { optional: true } ? never : K]: Out<S[K]> } & {
    [K in keyof S as S[K] extends { optional: true } ? K : never]?: Out<S[K]>;
  }
>;

function fail(at: string, what: string): never {
  throw new Invalid(`${at}: ${what}`);
}

function text(min: number, max: number, pattern?: RegExp): Checker<string> {
  return (v, at) => {
    if (typeof v !== 'string') fail(at, 'must be a string');
    if (v.length < min || v.length > max) fail(at, `must be ${min}–${max} characters`);
    if (pattern && !pattern.test(v)) fail(at, 'has an invalid form');
    return v;
  };
}

const flag: Checker<boolean> = (v, at) => (typeof v === 'boolean' ? v : fail(at, 'must be true or false'));

function amount(min: number, max: number): Checker<number> {
  return (v, at) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(at, 'must be a finite number');
    if (v < min || v > max) fail(at, `must be between ${min} and ${max}`);
    return v;
  };
}

function oneOf<const T extends readonly string[]>(values: T): Checker<T[number]> {
  return (v, at) => ((values as readonly unknown[]).includes(v) ? (v as T[number]) : fail(at, `must be one of ${values.join(', ')}`));
}

function optional<T>(check: Checker<T>): Checker<T> & { optional: true } {
  const wrapped = ((v: unknown, at: string) => check(v, at)) as Checker<T> & { optional: true };
  wrapped.optional = true;
  return wrapped;
}

function nullable<T>(check: Checker<T>): Checker<T | null> {
  return (v, at) => (v === null ? null : check(v, at));
}

function listOf<T>(item: Checker<T>, min: number, max: number): Checker<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) fail(at, 'must be a list');
    if (v.length < min || v.length > max) fail(at, `must have ${min}–${max} items`);
    return v.map((x, i) => item(x, `${at}[${i}]`));
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Exactly these fields: a missing required field, an extra field, or a wrong type is refused. */
function object<S extends Shape>(shape: S): Checker<ObjectOf<S>> {
  return (v, at) => {
    if (!isPlainObject(v)) fail(at, 'must be an object');
    for (const key of Object.keys(v)) if (!Object.prototype.hasOwnProperty.call(shape, key)) fail(`${at}.${key}`, 'is not allowed');
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      if (v[key] === undefined) {
        if (!check.optional) fail(`${at}.${key}`, 'is required');
        continue;
      }
      out[key] = check(v[key], `${at}.${key}`);
    }
    return out as ObjectOf<S>;
  };
}

/** Limits on what a person can type; the engine and the endpoint have their own. */
export const LIMITS = {
  promptChars: 100_000,
  commentChars: 10_000,
  idChars: 200,
  endpointChars: 2_048,
  modelChars: 200,
  maxBudgetUsd: 100_000,
  maxBudgetTokens: 10_000_000_000,
  maxFilesPerReview: 1_000,
  maxHunksPerFile: 10_000,
  maxLineCommentsPerFile: 1_000,
  maxLine: 10_000_000,
} as const;

const ID = /^[A-Za-z0-9_.:-]+$/;
/** A binding is the SHA-256 hex the engine computed (src/core/prompter.ts `bindingFor`). */
const BINDING = /^[0-9a-f]{64}$/;
const SETTING = /^deputy\.[A-Za-z0-9.]+$/;

const id = text(1, LIMITS.idChars, ID);
const binding = text(64, 64, BINDING);
const hunkId = text(16, 16, /^[0-9a-f]{16}$/);
const comment = optional(text(0, LIMITS.commentChars));
const endpoint = text(1, LIMITS.endpointChars);
const model = text(1, LIMITS.modelChars);

/** Each error action's fields besides `kind`. */
const ERROR_ACTION_SHAPES = {
  signIn: { profile: optional(text(1, 200)) },
  openSetting: { setting: text(1, 200, SETTING) },
  raiseBudget: { scope: optional(oneOf(BUDGET_SCOPES)) },
  retry: {},
} as const satisfies Record<ErrorActionKind, Shape>;

const errorAction: Checker<ErrorAction> = (v, at) => {
  if (!isPlainObject(v)) fail(at, 'must be an object');
  const kind = oneOf(ERROR_ACTION_KINDS)(v.kind, `${at}.kind`);
  return object({ kind: oneOf([kind]), ...ERROR_ACTION_SHAPES[kind] })(v, at) as ErrorAction;
};

/** The audit commands the timeline offers as buttons. */
export const AUDIT_COMMANDS = ['verify', 'export', 'openFolder'] as const;

/** A review of every file at once: `requestChanges` rejects them all and sends the comment to the agent. */
export const REVIEW_ALL_VERDICTS = [...REVIEW_VERDICTS, 'requestChanges'] as const;
export type ReviewAllVerdict = (typeof REVIEW_ALL_VERDICTS)[number];

const HUNK_ID = /^[0-9a-f]{16}$/;

/** One file's decision as the card sends it (`FileDecision` in events.ts). */
const fileDecision = object({
  binding,
  decision: oneOf(FILE_DECISIONS),
  hunkIds: optional(listOf(text(16, 16, HUNK_ID), 0, LIMITS.maxHunksPerFile)),
  comment,
  lineComments: optional(
    listOf(object({ line: amount(1, LIMITS.maxLine), side: oneOf(['proposed', 'current'] as const), text: text(1, LIMITS.commentChars) }), 0, LIMITS.maxLineCommentsPerFile),
  ),
});

/**
 * Every message the webview may send, by type, with its schema. The type names and `FromWebview` are derived from
 * this table.
 */
export const FROM_WEBVIEW_SCHEMAS = {
  /**
   * Sent by the webview when its script has loaded: the extension answers with `state` and `settings`.
   * `restoreSessionId` is the session the panel showed before it was hidden or reloaded; the extension shows it
   * again unless a New Task asked for the form meanwhile (that request came first, so it wins).
   */
  ready: { restoreSessionId: optional(id) },
  /**
   * Sent by the webview when the person sends a new task (Send, Ctrl/Cmd+Enter). Absent endpoint/model/budget mean
   * the settings in use; the extension reads the selection or file itself when asked to attach it.
   */
  newTask: {
    prompt: text(1, LIMITS.promptChars),
    endpoint: optional(endpoint),
    model: optional(model),
    budgetUsd: optional(amount(0.01, LIMITS.maxBudgetUsd)),
    /** A budget in tokens instead (for a model without a known price); not with `budgetUsd`. */
    budgetTokens: optional(amount(1, LIMITS.maxBudgetTokens)),
    folder: optional(text(1, 500)),
    attachSelection: flag,
    attachFile: flag,
    /** Deputy is the agent's environment (a shadow workspace, reviewed after each turn); absent: the setting. */
    environment: optional(flag),
  },
  /** Sent by the webview when the person sends a follow-up message in a session. */
  followUp: { sessionId: id, text: text(1, LIMITS.promptChars) },
  /** Sent by the webview on Stop (button or Esc): cancel the session's turn now. */
  stop: { sessionId: id },
  /** Sent by the webview when the person answers a permission prompt; counts only with the prompt's binding. */
  answerPrompt: { sessionId: id, binding, decision: oneOf(PROMPT_DECISIONS), comment },
  /** Sent by the webview when the person approves or rejects one file of a changeset. */
  reviewFile: { sessionId: id, changesetId: id, binding, verdict: oneOf(REVIEW_VERDICTS), comment },
  /**
   * Sent by the webview for Approve all / Reject all / Request changes: the bindings of exactly the files the
   * person saw. `requestChanges` needs a comment.
   */
  reviewAll: {
    sessionId: id,
    changesetId: id,
    bindings: listOf(binding, 1, LIMITS.maxFilesPerReview),
    verdict: oneOf(REVIEW_ALL_VERDICTS),
    comment,
  },
  /**
   * Sent by the webview when the person decides files of a changeset on the card (per file, per hunk, or for the
   * rest of the set); relayed as `deputy/reviewChangeset`. Each decision carries the binding the engine issued.
   */
  reviewChangeset: {
    sessionId: id,
    changesetId: id,
    files: listOf(fileDecision, 0, LIMITS.maxFilesPerReview),
    rest: optional(oneOf(REVIEW_ALL_VERDICTS)),
    comment,
  },
  /** Sent by the webview for "Revert this task's changes" on a session's card; relayed as `deputy/revertTask`. */
  revertTask: { sessionId: id },
  /** Sent by the webview when the person selects a session (null: the new-task form). */
  selectSession: { sessionId: nullable(id) },
  /** Sent by the webview when the person asks to see a proposed file in VS Code's diff editor. */
  openDiff: { sessionId: id, changesetId: id, binding },
  /** Sent by the webview for "Open all diffs": the whole changeset in VS Code's multi-file diff editor. */
  openAllDiffs: { sessionId: id, changesetId: id },
  /** Sent by the webview when the person keeps or drops one hunk of a file (the extension holds the draft). */
  chooseHunk: { sessionId: id, changesetId: id, binding, hunkId, keep: flag },
  /** Sent by the webview for "Show both versions" on a file in conflict: the file now beside the agent's version. */
  showConflict: { sessionId: id, changesetId: id, binding },
  /** Sent by the webview when the person marks a file reviewed or not. */
  markReviewed: { sessionId: id, changesetId: id, binding, reviewed: flag },
  /** Sent by the webview to change the endpoint; without one, the extension offers its picker. */
  switchEndpoint: { endpoint: optional(endpoint) },
  /** Sent by the webview to change the model; without one, the extension offers its picker. */
  switchModel: { model: optional(model) },
  /** Sent by the webview when the person presses an error's action button. */
  runAction: { action: errorAction, sessionId: optional(id) },
  /** Sent by the webview when it shows (or refreshes) a session's audit timeline: the extension answers with `audit`. */
  showAudit: { sessionId: id },
  /** Sent by the webview for the timeline's Verify / Export / Open audit folder buttons (the editor's own commands). */
  auditCommand: { command: oneOf(AUDIT_COMMANDS) },
} as const satisfies Record<string, Shape>;

export type FromWebviewType = keyof typeof FROM_WEBVIEW_SCHEMAS;
export const FROM_WEBVIEW_TYPES = Object.keys(FROM_WEBVIEW_SCHEMAS) as FromWebviewType[];
export type FromWebviewOf<T extends FromWebviewType> = Flatten<{ type: T } & ObjectOf<(typeof FROM_WEBVIEW_SCHEMAS)[T]>>;
export type FromWebview = { [T in FromWebviewType]: FromWebviewOf<T> }[FromWebviewType];

/**
 * Checks a message from the webview. Returns the message (a fresh object holding only the checked fields) or
 * `{ error }` saying the first thing wrong with it. Never throws.
 */
export function parseFromWebview(value: unknown): FromWebview | { error: string } {
  try {
    if (!isPlainObject(value)) fail('message', 'must be an object');
    const type = value.type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(FROM_WEBVIEW_SCHEMAS, type)) {
      fail('message.type', 'is not a known message type');
    }
    const shape: Shape = { type: oneOf([type]), ...FROM_WEBVIEW_SCHEMAS[type as FromWebviewType] };
    const message = object(shape)(value, 'message') as FromWebview;
    if (message.type === 'reviewAll' && message.verdict === 'requestChanges' && !message.comment?.trim()) {
      fail('message.comment', 'is required to request changes');
    }
    if (message.type === 'reviewAll' && new Set(message.bindings).size !== message.bindings.length) {
      fail('message.bindings', 'must not repeat a file');
    }
    if (message.type === 'reviewChangeset') {
      if (new Set(message.files.map((f) => f.binding)).size !== message.files.length) fail('message.files', 'must not repeat a file');
      if (message.files.length === 0 && message.rest === undefined) fail('message.files', 'must decide at least one file');
      message.files.forEach((f, i) => {
        if (f.decision === 'keepHunks' && f.hunkIds === undefined) fail(`message.files[${i}].hunkIds`, 'is required to keep hunks');
        if (f.decision !== 'keepHunks' && f.hunkIds !== undefined) fail(`message.files[${i}].hunkIds`, 'is allowed only to keep hunks');
      });
    }
    return message;
  } catch (err) {
    if (err instanceof Invalid) return { error: err.message };
    return { error: 'message: could not be checked' };
  }
}

/** Whether a parse result is a refusal. */
export function isParseError(result: FromWebview | { error: string }): result is { error: string } {
  return 'error' in result && !('type' in result);
}

// ---------------------------------------------------------------------------------------------------------------
// The page that hosts the panel: one definition, used by the extension and by the test harness, so the tests run
// under exactly the policy users get.

/**
 * The panel's Content Security Policy: nothing loads or runs but the bundle carrying this page's nonce; styles
 * come from the bundle (constructed stylesheets) and the extension's resources; no inline script, no eval.
 */
export function webviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The panel's HTML. `scriptUri` is the webview URI of dist/webview.js; `nonce` is fresh for every page. */
export function webviewHtml(page: { cspSource: string; nonce: string; scriptUri: string }): string {
  const attr = (v: string) => v.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(webviewCsp(page.cspSource, page.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Deputy</title>
</head>
<body>
<script nonce="${attr(page.nonce)}" src="${attr(page.scriptUri)}"></script>
</body>
</html>
`;
}
