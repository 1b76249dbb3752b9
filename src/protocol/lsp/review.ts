/**
 * Reviewing an agent's changes over the language-server pipe (src/protocol/lsp.ts): a proposed file's two versions,
 * per-file and per-hunk decisions, the pending changesets for the "Changes" view, conflicts, and reverting a task.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { ChangesetFileResult, ConflictReport, FileDecision, ReviewVerdict } from '../events.js';
import type { ReviewAllVerdict } from '../webview.js';
import type { RequestFailure } from './failure.js';

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
