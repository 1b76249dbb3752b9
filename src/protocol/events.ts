/**
 * Everything the engine does, as one typed stream of events (issue 7 §1). The engine emits these; the audit
 * trail, the CLI's renderer, the language server (which relays them to the editor) and the panel consume them.
 * One stream is the single source: nothing is reported through a second channel.
 *
 * Rules every producer keeps:
 * - `seq` is monotonic per session (1, 2, 3…, no reuse): a consumer that reattaches asks for "after seq N" and a
 *   consumer that sees a seq it already has drops it.
 * - `at` is ISO 8601 UTC, when the engine observed the fact.
 * - Fields marked "agent-made" carry text the model or its tools produced. Consumers show it, never obey it:
 *   it goes through `visibleText` (src/core/visible-text.ts) before it reaches a person, and Markdown is
 *   sanitised before it is rendered.
 * - No credential ever appears in an event (DESIGN.md §5): errors carry structured facts, not raw SDK text.
 *
 * Adding a variant: add its name to `ENGINE_EVENT_TYPES` and its payload to `EngineEventPayloads` (the compiler
 * fails until both agree), with a doc comment saying who emits it and why.
 */
import type { ChangeOperation, ChangeStatus } from './tools.js';

/** The lifecycle of a session as the person sees it. */
export const SESSION_STATUSES = [
  /** Created locally, the endpoint's session not yet confirmed. */
  'starting',
  /** A turn is in progress at the endpoint. */
  'running',
  /** The engine waits for a person: a permission prompt or a changeset review is open. */
  'waiting',
  /** No turn in progress; the session takes a follow-up. */
  'idle',
  /** The last turn failed; the session may still take a follow-up. */
  'failed',
  /** The person stopped the session's turn. */
  'cancelled',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** How one turn ended. */
export const TURN_OUTCOMES = ['completed', 'failed', 'cancelled'] as const;
export type TurnOutcome = (typeof TURN_OUTCOMES)[number];

/** A client tool call's progress: waiting for policy or a person, running, then one final state. */
export const TOOL_CALL_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'denied'] as const;
export type ToolCallStatus = (typeof TOOL_CALL_STATUSES)[number];

/** A person's answer to a permission prompt. `allowTask`: allow this tool for the rest of the task. */
export const PROMPT_DECISIONS = ['allowOnce', 'allowTask', 'deny'] as const;
export type PromptDecision = (typeof PROMPT_DECISIONS)[number];

/** Why a prompt closed without a person's answer. Every withdrawal counts as a deny. */
export const PROMPT_WITHDRAWAL_REASONS = [
  /** Not answered before its deadline (`deputy.prompts.timeoutMinutes`). */
  'timedOut',
  /** The session's turn was stopped or ended while the prompt was open. */
  'sessionStopped',
  /** Answered in another front end (the notification, another window): this copy closes. */
  'answeredElsewhere',
] as const;
export type PromptWithdrawalReason = (typeof PROMPT_WITHDRAWAL_REASONS)[number];

/** A reviewer's verdict on one proposed file. */
export const REVIEW_VERDICTS = ['approve', 'reject'] as const;
export type ReviewVerdict = (typeof REVIEW_VERDICTS)[number];

/**
 * A person's decision on one file of a changeset (issue 9 §1), the richer form of `ReviewVerdict`:
 * - `approve`: apply the whole proposal of this file.
 * - `reject`: apply nothing to this file; its comments go to the agent.
 * - `keepHunks`: apply exactly the hunks named in `hunkIds` (re-anchored on the file's content at apply time); the
 *   rest is rejected. An empty list is a reject.
 * - `requestChanges`: apply nothing to this file and ask the agent to revise it with the comments given.
 * - `redo`: only for a file in `conflict`: send the file's current content back to the agent to redo the change on it.
 */
export const FILE_DECISIONS = ['approve', 'reject', 'keepHunks', 'requestChanges', 'redo'] as const;
export type FileDecisionKind = (typeof FILE_DECISIONS)[number];

/** A comment on one line of a proposed file (the Comments API on the proposed document). */
export interface LineComment {
  /** 1-based line number in `side`'s text. */
  line: number;
  /** `proposed`: the agent's version (right side of the diff); `current`: the file as it is now (left side). */
  side: 'proposed' | 'current';
  text: string;
}

/** A person's decision on one file, bound to that file of that changeset by `binding`. */
export interface FileDecision {
  binding: string;
  decision: FileDecisionKind;
  /** For `keepHunks`: the ids of the hunks to apply (`ChangesetHunk.hunkId`). */
  hunkIds?: string[];
  /** A general comment on this file, for the agent. */
  comment?: string;
  lineComments?: LineComment[];
}

/** Whether something is new in this round of a changeset, changed since the last round, or the same. */
export const REVISION_MARKS = ['new', 'changed', 'unchanged'] as const;
export type RevisionMark = (typeof REVISION_MARKS)[number];

/**
 * One hunk of a proposed file's diff, as the reviewer sees and selects it. Ids are stable across rounds: the same
 * change to the same lines of the same file has the same id, so a revised changeset can say what is unchanged.
 */
export interface ChangesetHunk {
  /** 16 hex characters; unique within the file. */
  hunkId: string;
  /** The `@@ -a,b +c,d @@` header. */
  header: string;
  /** 1-based first line and line count in the file as it was read (old) and as proposed (new). */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The hunk's body: lines starting with ' ', '-', '+' or '\\'. Agent-made. */
  lines: string[];
  /** Set from the second round on: against the previous round's hunks of this file. */
  revision?: RevisionMark;
}

/** Why a file was not written: what the agent (or the review) expected and what is there now. */
export interface ConflictReport {
  path: string;
  /** SHA-256 of the file when the agent read it (its base); null when the agent expected no file. */
  baseSha256: string | null;
  /** SHA-256 of the file now; null when it does not exist now. */
  currentSha256: string | null;
  /** Worded for a person (and the agent). */
  reason: string;
}

/** A prepared file's state before review (see `PreparedFile` in src/core/changeset/types.ts). */
export const CHANGE_FILE_STATES = ['ready', 'invalid', 'conflict'] as const;
export type ChangeFileState = (typeof CHANGE_FILE_STATES)[number];

/** Which stream a command's output chunk came from. */
export const OUTPUT_STREAMS = ['stdout', 'stderr'] as const;
export type OutputStream = (typeof OUTPUT_STREAMS)[number];

/** The execution environment's connection (DESIGN.md §2 B); `none` for client-tool sessions. */
export const ENVIRONMENT_STATES = ['none', 'connecting', 'connected', 'disconnected', 'failed'] as const;
export type EnvironmentState = (typeof ENVIRONMENT_STATES)[number];

/** Machine-readable error kinds: front ends word them and pick the action; the engine only classifies. */
export const ERROR_KINDS = [
  /** The embedded runtime's upstream model does not answer (wrong URL, not running, wrong model name). */
  'modelUnavailable',
  /** The endpoint (runtime URL, OpenAI, Bedrock) cannot be reached. */
  'endpointUnreachable',
  /** The SSO sign-in is missing or expired, or the API key is missing. */
  'signInRequired',
  /** The endpoint refused the identity (403, access denied). */
  'accessDenied',
  /** The session's spend limit was reached. */
  'budgetReached',
  /** A setting is missing or invalid. */
  'invalidSetting',
  /** The event stream broke and could not be resumed. */
  'streamLost',
  /** Anything else: a bug or an unexpected answer. */
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The one thing a person can do about an error; front ends show it as a button. */
export const ERROR_ACTION_KINDS = ['signIn', 'openSetting', 'raiseBudget', 'retry'] as const;
export type ErrorActionKind = (typeof ERROR_ACTION_KINDS)[number];
export type ErrorAction =
  | { kind: 'signIn'; /** The AWS profile to sign in, when one is involved. */ profile?: string }
  | { kind: 'openSetting'; /** A setting id, e.g. `deputy.embedded.modelBaseUrl`. */ setting: string }
  | { kind: 'raiseBudget'; /** Which budget stopped the agent: the task's (default) or today's. */ scope?: BudgetScope }
  | { kind: 'retry' };

/** A budget covers one task (its session, every turn) or the day (every session of the person on the machine). */
export const BUDGET_SCOPES = ['task', 'day'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];
/** US dollars where the model's price is known, else tokens. */
export const BUDGET_UNITS = ['usd', 'tokens'] as const;
export type BudgetUnit = (typeof BUDGET_UNITS)[number];

/** A budget as a person sets it. */
export interface BudgetAmount {
  unit: BudgetUnit;
  amount: number;
}

/** Where one budget stands: `spent` and `limit` in its unit. */
export interface BudgetMeterView {
  scope: BudgetScope;
  unit: BudgetUnit;
  spent: number;
  limit: number;
}

/** Fields every event carries. */
export interface EventEnvelope {
  sessionId: string;
  /** Monotonic per session, from 1. */
  seq: number;
  /** ISO 8601 UTC. */
  at: string;
}

/** One file of a changeset as the reviewer sees it. Paths are relative to the workspace folder, `/`-separated. */
export interface ChangesetFile {
  /** Binds a verdict to this exact file of this exact proposal (session + request id + hash of the change). */
  binding: string;
  /** Agent-made. */
  path: string;
  /** Where the write lands when `path` goes through a symlink inside the workspace. */
  realPath?: string;
  operation: ChangeOperation;
  state: ChangeFileState;
  /** For `invalid`/`conflict`: why it cannot be applied. */
  reason?: string;
  added: number;
  removed: number;
  /** Unified diff with git-style headers; '' when not `ready`. Agent-made. */
  diff: string;
  /** Agent-made. */
  rationale?: string;
  /** SHA-256 of the file the proposal is based on (what the agent read); null for a create. */
  baseSha256?: string | null;
  /** SHA-256 of the proposed content (UTF-8); null for a delete or when not `ready`. */
  proposalSha256?: string | null;
  /** The diff split into selectable hunks (`keepHunks`); empty when not `ready`. */
  hunks?: ChangesetHunk[];
  /** From the second round on: whether this file is new in this round, changed since the last, or the same. */
  revision?: RevisionMark;
  /** For `conflict`: both versions' hashes; the texts come from `deputy/conflictVersions`. */
  conflict?: ConflictReport;
}

/** What happened to one file after review. */
export interface ChangesetFileResult {
  path: string;
  status: ChangeStatus;
  reason?: string;
  comment?: string;
  /** For a `keepHunks` decision: the hunks that were applied. */
  keptHunks?: string[];
  /** For `conflict`: both versions' hashes. */
  conflict?: ConflictReport;
}

/**
 * The names of all events, with the part of the person's view each one belongs to. The type of names is derived
 * from this table; `EngineEventPayloads` must have exactly these keys.
 */
export const ENGINE_EVENT_TYPES = {
  'session.started': 'session',
  'session.status': 'session',
  'turn.started': 'turn',
  'turn.ended': 'turn',
  'message.user': 'transcript',
  'message.delta': 'transcript',
  'message.completed': 'transcript',
  'reasoning.summary': 'transcript',
  'tool.called': 'transcript',
  'tool.completed': 'transcript',
  'command.started': 'transcript',
  'command.output': 'transcript',
  'command.exited': 'transcript',
  'prompt.asked': 'person',
  'prompt.answered': 'person',
  'prompt.withdrawn': 'person',
  'changeset.proposed': 'person',
  'changeset.verdict': 'person',
  'changeset.applied': 'person',
  'changeset.conflict': 'person',
  'changeset.reverted': 'person',
  usage: 'session',
  budget: 'session',
  error: 'session',
  notice: 'session',
  'environment.state': 'session',
} as const;
export type EngineEventType = keyof typeof ENGINE_EVENT_TYPES;
export type EngineEventLane = (typeof ENGINE_EVENT_TYPES)[EngineEventType];
/** The names as a list, for tables and tests. */
export const ENGINE_EVENT_TYPE_LIST = Object.keys(ENGINE_EVENT_TYPES) as EngineEventType[];

/** The payload of each event, by name. */
export interface EngineEventPayloads {
  /**
   * Emitted by the engine once, when a session is created (or first attached in this process), so every consumer
   * knows what the session is for before anything else happens in it.
   */
  'session.started': {
    /** Deputy's task id (`deputy.task` in the session's metadata). */
    taskId: string;
    /** The task as the person wrote it. */
    task: string;
    /** `embedded`, `openai`, `bedrock` or a runtime URL (never with credentials in it). */
    endpoint: string;
    model?: string;
    /** The workspace folder the task works in (multi-root: each folder is its own workspace). */
    folder: string;
    /** The per-task budget in USD, when one is set. */
    budgetUsd?: number;
    /** Whether this session was attached to (after a reload or restart) rather than created here. */
    attached: boolean;
  };
  /** Emitted by the engine whenever the session's status changes, so lists and status lines stay current. */
  'session.status': {
    status: SessionStatus;
    /** What the status means now, e.g. "waiting for your answer to 1 prompt". Not agent-made. */
    detail?: string;
  };
  /** Emitted by the engine when it sends input that starts a turn (the task or a follow-up). */
  'turn.started': { turnId: string; /** What started it. */ cause: 'task' | 'followUp' };
  /** Emitted by the engine when the endpoint reports the turn over, however it ended. */
  'turn.ended': { turnId: string; outcome: TurnOutcome; /** For `failed`: what went wrong, worded for a person. */ error?: string };
  /** Emitted by the engine when it sends a person's message (the task itself or a follow-up) to the agent. */
  'message.user': { messageId: string; text: string };
  /** Emitted by the engine for each piece of the agent's text as it streams. Agent-made. */
  'message.delta': { messageId: string; delta: string };
  /**
   * Emitted by the engine when an agent message is complete: its whole text, so a consumer that missed deltas (or
   * renders Markdown once) has it. Agent-made.
   */
  'message.completed': { messageId: string; text: string };
  /** Emitted by the engine for each reasoning summary the endpoint shares. Agent-made. */
  'reasoning.summary': { itemId: string; text: string };
  /**
   * Emitted by the engine when the agent calls a tool (a client tool or, in environment mode, an operation),
   * before policy decides; `status` says whether it runs at once or waits for a person.
   */
  'tool.called': {
    callId: string;
    tool: string;
    /** One line, e.g. `read src/app.ts`. Agent-made. */
    argsSummary: string;
    status: Extract<ToolCallStatus, 'pending' | 'running'>;
  };
  /** Emitted by the engine when a tool call ends: its final status, how long it took and how big its result was. */
  'tool.completed': {
    callId: string;
    tool: string;
    status: Extract<ToolCallStatus, 'succeeded' | 'failed' | 'denied'>;
    durationMs: number;
    /** UTF-8 bytes of the result returned to the agent. */
    resultBytes: number;
    /** A short human summary of the result, e.g. `42 lines`, or the error. Not the result itself. */
    resultSummary?: string;
  };
  /** Emitted by the environment gate when a command the agent asked for starts (after policy and the person). */
  'command.started': {
    commandId: string;
    /** The command line. Agent-made. */
    command: string;
    /** Relative to the workspace folder. */
    cwd: string;
  };
  /** Emitted by the environment gate for each chunk a running command prints (capped). Agent-made. */
  'command.output': { commandId: string; stream: OutputStream; chunk: string };
  /** Emitted by the environment gate when a command exits or is stopped. */
  'command.exited': {
    commandId: string;
    exitCode: number | null;
    /** The signal that ended it, when one did. */
    signal?: string;
    durationMs: number;
    /** The output passed the cap and the rest was dropped. */
    truncated: boolean;
  };
  /**
   * Emitted by the engine when policy says "ask": a person must allow or deny this exact call. An answer counts
   * only with the same `binding`; after `deadline` the engine denies it and emits `prompt.withdrawn`.
   */
  'prompt.asked': {
    binding: string;
    callId: string;
    tool: string;
    /** One line saying what the agent wants to do. Agent-made. */
    summary: string;
    /** The exact arguments of the call. Agent-made. */
    args: unknown;
    /** Why the policy asks (the rule or default that decided). */
    reason: string;
    /** ISO 8601 UTC: unanswered by then is a deny. */
    deadline: string;
  };
  /** Emitted by the engine when a person's answer to a prompt is accepted (the binding matched). */
  'prompt.answered': { binding: string; decision: PromptDecision; comment?: string };
  /** Emitted by the engine when a prompt closes without an answer from this person; it counts as a deny. */
  'prompt.withdrawn': { binding: string; reason: PromptWithdrawalReason };
  /**
   * Emitted by the engine when the agent proposes changes (a `propose_changes` call or the shadow workspace's
   * difference at a turn's end): one card to review, a binding per file.
   */
  'changeset.proposed': {
    changesetId: string;
    /** The tool call that proposed it, when one did. */
    callId?: string;
    /** Agent-made. */
    summary: string;
    files: ChangesetFile[];
    /** `proposeChanges`: the agent's `propose_changes` call; `environment`: the shadow workspace's difference. */
    source?: 'proposeChanges' | 'environment';
    /** 1 for a first proposal; n+1 for the agent's revision after the person requested changes in round n. */
    round?: number;
    /** The changeset this one revises (round > 1). */
    previousChangesetId?: string;
    /** ISO 8601 UTC: files still undecided by then are rejected. */
    deadline?: string;
  };
  /**
   * Emitted by the engine when a person's decision on one file is accepted (the binding matched). `verdict` is the
   * coarse approve/reject (`keepHunks` counts as approve when hunks are kept); `decision` the full one.
   */
  'changeset.verdict': {
    changesetId: string;
    binding: string;
    path: string;
    verdict: ReviewVerdict;
    decision?: FileDecisionKind;
    hunkIds?: string[];
    /** The reviewer's comment, passed to the agent with a rejection. */
    comment?: string;
    lineComments?: LineComment[];
  };
  /**
   * Emitted by the engine after applying a reviewed changeset (only once every file is decided): what happened to
   * every file.
   */
  'changeset.applied': { changesetId: string; results: ChangesetFileResult[] };
  /**
   * Emitted by the engine when a file could not be written (at apply or revert) because it changed since the agent
   * read it (or since it was applied): nothing was overwritten; both versions can be opened.
   */
  'changeset.conflict': { changesetId: string; binding?: string; conflict: ConflictReport };
  /** Emitted by the engine after "Revert this task's changes": what happened to every file of the task. */
  'changeset.reverted': { taskId: string; results: ChangesetFileResult[] };
  /** Emitted by the engine when usage grows (each turn or call): totals for the session so far. */
  usage: {
    inputTokens: number;
    outputTokens: number;
    totalTokens: number;
    /** Cost so far in USD, when the price is known. */
    costUsd?: number;
    /** The session's budget in USD, when one is set. */
    budgetUsd?: number;
  };
  /**
   * Emitted by the engine when a budget's meter moves (each usage the endpoint reports), and with `change` when it
   * warns (80%, once per limit), stops the agent (100%: an `error` of kind `budgetReached` follows) or a person set
   * a new limit. `meters` holds every budget of the session as it stands now.
   */
  budget: {
    meters: BudgetMeterView[];
    change?: 'warning' | 'reached' | 'raised';
    /** What changed, worded for a person. Not agent-made. */
    message?: string;
  };
  /**
   * Emitted by the engine when something failed that the person should know about, classified so a front end can
   * word it and offer the one action that helps. `fatal`: the session's turn ended because of it.
   */
  error: {
    kind: ErrorKind;
    /** What happened and what to do, worded for a person; never raw SDK text, never a credential. */
    message: string;
    action?: ErrorAction;
    fatal: boolean;
    /** Set when the turn ended because it reached one of its per-turn caps (`src/core/turn-limits.ts`). */
    cap?: { cap: 'steps' | 'prompts'; max: number };
  };
  /** Emitted by the engine for something the person should know that is neither output nor error (a resync, a reconnect). */
  notice: {
    message: string;
    /** Set when the notice is that the event stream is being reconnected: which attempt this is. */
    reconnectAttempt?: number;
  };
  /** Emitted by the environment side when the execution environment's connection changes (DESIGN.md §2 B). */
  'environment.state': { state: EnvironmentState; detail?: string };
}

/** Compile-time check that the table and the payloads name the same events (no list kept twice by hand). */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const sameKeys: SameKeys<EngineEventPayloads, typeof ENGINE_EVENT_TYPES> = true;
void sameKeys;

/** One event of one kind. */
export type EngineEventOf<T extends EngineEventType> = EventEnvelope & { type: T } & EngineEventPayloads[T];
/** The union of every event the engine emits, discriminated by `type`. */
export type EngineEvent = { [T in EngineEventType]: EngineEventOf<T> }[EngineEventType];

type WithoutEnvelope<E> = E extends unknown ? Omit<E, keyof EventEnvelope> : never;
/** An event as the engine emits it; whoever keeps a session's log (the server's) adds the envelope. */
export type EngineEventInput = WithoutEnvelope<EngineEvent>;

/** Whether `value` names an event type (for consumers reading events from a pipe or a file). */
export function isEngineEventType(value: unknown): value is EngineEventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ENGINE_EVENT_TYPES, value);
}
