/**
 * Sessions over the language-server pipe (src/protocol/lsp.ts): start, follow up, stop, list and replay them, answer
 * their prompts, and the events and summaries the server pushes as they run.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { BudgetAmount, EngineEvent, PromptDecision } from '../events.js';
import type { SessionSummary } from '../webview.js';
import type { RequestFailure } from './failure.js';

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
