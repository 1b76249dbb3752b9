/**
 * One session's transcript: engine events folded into rows the panel shows. The webview decides nothing here; it
 * only remembers what the engine said (an answered prompt is "answered" because the engine emitted
 * `prompt.answered`, not because a button was pressed).
 *
 * Performance: applying an event touches one row and bumps its `version`; only that row re-renders. Rows are
 * appended, never rebuilt, so 10,000 events cost 10,000 small steps, not a re-render of everything per delta.
 */
import type {
  BudgetMeterView,
  ChangesetFile,
  ChangesetFileResult,
  EngineEvent,
  FileDecisionKind,
  EngineEventOf,
  EnvironmentState,
  ErrorAction,
  ErrorKind,
  PromptDecision,
  PromptWithdrawalReason,
  ReviewVerdict,
  SessionStatus,
  ToolCallStatus,
  TurnOutcome,
} from '../src/protocol/events.js';

interface RowBase {
  /** Unique within the transcript. */
  key: string;
  /** Bumped on every change to the row, so its view knows to render again. */
  version: number;
}
export interface UserRow extends RowBase { kind: 'user'; text: string }
export interface AgentRow extends RowBase { kind: 'agent'; text: string; done: boolean }
export interface ReasoningRow extends RowBase { kind: 'reasoning'; text: string }
export interface ToolRow extends RowBase {
  kind: 'tool';
  tool: string;
  argsSummary: string;
  status: ToolCallStatus;
  durationMs?: number;
  resultBytes?: number;
  resultSummary?: string;
}
export interface CommandRow extends RowBase {
  kind: 'command';
  command: string;
  cwd: string;
  output: string;
  /** Output beyond what the panel keeps was dropped (the head is kept; the engine caps too). */
  clipped: boolean;
  running: boolean;
  exitCode?: number | null;
  signal?: string;
  durationMs?: number;
  truncated?: boolean;
}
export interface PromptRow extends RowBase {
  kind: 'prompt';
  binding: string;
  tool: string;
  summary: string;
  args: unknown;
  reason: string;
  deadline: string;
  state: 'open' | 'answered' | 'withdrawn';
  decision?: PromptDecision;
  comment?: string;
  /** The engine's reason, or `serverStopped`: the panel's own word for a question of a server that stopped. */
  withdrawnReason?: PromptWithdrawalReason | 'serverStopped';
}
export interface ChangesetFileView extends ChangesetFile {
  verdict?: ReviewVerdict;
  /** The full decision the engine accepted (keep hunks, request changes, redo). */
  decision?: FileDecisionKind;
  comment?: string;
  lineComments?: number;
  result?: ChangesetFileResult;
}
export interface ChangesetRow extends RowBase {
  kind: 'changeset';
  changesetId: string;
  summary: string;
  files: ChangesetFileView[];
  applied: boolean;
  /** 1 for a first proposal, n+1 for the agent's revision after round n. */
  round: number;
  /**
   * Set when the server that asked for this review stopped with files undecided: they cannot be answered any more.
   * (A prompt row says the same with `state: 'withdrawn'`; a changeset keeps its decided files' outcomes, so it
   * is marked as a whole instead.)
   */
  withdrawn?: 'serverStopped';
}
export interface ErrorRow extends RowBase {
  kind: 'error';
  errorKind: ErrorKind;
  message: string;
  action?: ErrorAction;
  fatal: boolean;
  /** The same error again is counted here, not shown again. */
  repeats: number;
}
export interface NoticeRow extends RowBase { kind: 'notice'; message: string }
export interface TurnEndRow extends RowBase { kind: 'turnEnd'; outcome: TurnOutcome; error?: string }

export type Row = UserRow | AgentRow | ReasoningRow | ToolRow | CommandRow | PromptRow | ChangesetRow | ErrorRow | NoticeRow | TurnEndRow;

/** Whether a file of a proposed changeset still waits for the person's verdict (not once applied or withdrawn). */
export function isUndecided(row: ChangesetRow, file: ChangesetFileView): boolean {
  return !row.applied && !row.withdrawn && file.state === 'ready' && !file.verdict;
}

/** The files of a proposed changeset still waiting for the person's verdict. */
export function undecidedFiles(row: ChangesetRow): ChangesetFileView[] {
  return row.files.filter((f) => isUndecided(row, f));
}

/** What the header shows about the session. */
export interface SessionHeader {
  task: string;
  endpoint: string;
  model?: string;
  folder?: string;
  status: SessionStatus;
  statusDetail?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd?: number;
  budgetUsd?: number;
  /** Every budget of the session as the engine last reported it (the live meter). */
  budgets: BudgetMeterView[];
  environment: EnvironmentState;
  environmentDetail?: string;
}

/** The panel keeps at most this much of one command's output; the rest is summarised. */
export const COMMAND_OUTPUT_KEEP = 64 * 1024;

export class Transcript {
  readonly rows: Row[] = [];
  readonly header: SessionHeader = { task: '', endpoint: '', status: 'starting', inputTokens: 0, outputTokens: 0, budgets: [], environment: 'none' };
  /** The last seq applied: a replayed or repeated event is ignored. */
  lastSeq = 0;
  /** Bumped when rows are added (the list changes), not when a row changes. */
  listVersion = 0;
  private readonly byKey = new Map<string, Row>();
  private readonly rowListeners = new Map<string, Set<() => void>>();
  private readonly changedKeys = new Set<string>();

  constructor(readonly sessionId: string) {}

  /** Applies events in order; returns whether anything changed. Row changes are announced by `flush`. */
  apply(events: readonly EngineEvent[]): boolean {
    let changed = false;
    for (const event of events) {
      if (event.sessionId !== this.sessionId || event.seq <= this.lastSeq) continue;
      this.lastSeq = event.seq;
      this.applyOne(event);
      changed = true;
    }
    return changed;
  }

  /** Tells the views of changed rows to render again (once per batch, whatever the number of deltas). */
  flush(): void {
    for (const key of this.changedKeys) for (const listener of this.rowListeners.get(key) ?? []) listener();
    this.changedKeys.clear();
  }

  onRowChange(key: string, listener: () => void): () => void {
    let set = this.rowListeners.get(key);
    if (!set) this.rowListeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.rowListeners.delete(key);
    };
  }

  /** Open prompts and changesets with files still to review: what the person is waited on for. */
  pending(): (PromptRow | ChangesetRow)[] {
    return this.rows.filter(
      (r): r is PromptRow | ChangesetRow =>
        (r.kind === 'prompt' && r.state === 'open') || (r.kind === 'changeset' && r.files.some((f) => isUndecided(r, f))),
    );
  }

  /**
   * The server that asked this session's open questions stopped: none of them can be answered any more, prompts
   * or the undecided files of a proposed changeset. They show as such at once (no buttons); the new server asks
   * again when the session reattaches (a replay replaces them). Returns the bindings dropped.
   */
  serverStopped(): string[] {
    const dropped: string[] = [];
    for (const row of this.rows) {
      if (row.kind === 'prompt' && row.state === 'open') {
        row.state = 'withdrawn';
        row.withdrawnReason = 'serverStopped';
        dropped.push(row.binding);
        this.touch(row);
      } else if (row.kind === 'changeset' && !row.applied && !row.withdrawn) {
        // A file in conflict is still open to the review too ("Ask the agent to redo" answers it), though the
        // "waiting for you" count (pending) leaves such files out.
        const undecided = row.files.filter((f) => (f.state === 'ready' || f.state === 'conflict') && !f.verdict);
        if (undecided.length === 0) continue;
        row.withdrawn = 'serverStopped';
        dropped.push(...undecided.map((f) => f.binding));
        this.touch(row);
      }
    }
    return dropped;
  }

  /** Re-renders just the rows waiting for the person (time left on prompts, buttons to enable again). */
  refreshPending(): void {
    for (const row of this.pending()) this.touch(row);
    this.flush();
  }

  private applyOne(event: EngineEvent): void {
    const h = this.header;
    switch (event.type) {
      case 'session.started':
        h.task = event.task;
        h.endpoint = event.endpoint;
        if (event.model !== undefined) h.model = event.model;
        h.folder = event.folder;
        if (event.budgetUsd !== undefined) h.budgetUsd = event.budgetUsd;
        return;
      case 'session.status':
        h.status = event.status;
        if (event.detail !== undefined) h.statusDetail = event.detail;
        else delete h.statusDetail;
        return;
      case 'turn.started':
        return;
      case 'turn.ended':
        this.add({ kind: 'turnEnd', key: `turn:${event.turnId}`, version: 0, outcome: event.outcome, ...(event.error !== undefined ? { error: event.error } : {}) });
        this.closeStreaming();
        return;
      case 'message.user':
        this.add({ kind: 'user', key: `user:${event.messageId}`, version: 0, text: event.text });
        return;
      case 'message.delta': {
        const row = this.get<AgentRow>(`agent:${event.messageId}`);
        if (row) {
          if (row.done) return;
          row.text += event.delta;
          this.touch(row);
        } else this.add({ kind: 'agent', key: `agent:${event.messageId}`, version: 0, text: event.delta, done: false });
        return;
      }
      case 'message.completed': {
        const row = this.get<AgentRow>(`agent:${event.messageId}`);
        if (row) {
          row.text = event.text;
          row.done = true;
          this.touch(row);
        } else this.add({ kind: 'agent', key: `agent:${event.messageId}`, version: 0, text: event.text, done: true });
        return;
      }
      case 'reasoning.summary': {
        const row = this.get<ReasoningRow>(`reasoning:${event.itemId}`);
        if (row) {
          row.text = event.text;
          this.touch(row);
        } else this.add({ kind: 'reasoning', key: `reasoning:${event.itemId}`, version: 0, text: event.text });
        return;
      }
      case 'tool.called': {
        const row = this.get<ToolRow>(`tool:${event.callId}`);
        if (row) {
          row.status = event.status;
          this.touch(row);
        } else this.add({ kind: 'tool', key: `tool:${event.callId}`, version: 0, tool: event.tool, argsSummary: event.argsSummary, status: event.status });
        return;
      }
      case 'tool.completed':
        this.completeTool(event);
        return;
      case 'command.started':
        this.add({ kind: 'command', key: `command:${event.commandId}`, version: 0, command: event.command, cwd: event.cwd, output: '', clipped: false, running: true });
        return;
      case 'command.output': {
        const row = this.get<CommandRow>(`command:${event.commandId}`);
        if (!row || row.clipped) return;
        const room = COMMAND_OUTPUT_KEEP - row.output.length;
        row.output += event.chunk.length <= room ? event.chunk : event.chunk.slice(0, room);
        if (event.chunk.length > room) row.clipped = true;
        this.touch(row);
        return;
      }
      case 'command.exited': {
        const row = this.get<CommandRow>(`command:${event.commandId}`);
        if (!row) return;
        row.running = false;
        row.exitCode = event.exitCode;
        if (event.signal !== undefined) row.signal = event.signal;
        row.durationMs = event.durationMs;
        row.truncated = event.truncated;
        this.touch(row);
        return;
      }
      case 'prompt.asked':
        this.add({
          kind: 'prompt',
          key: `prompt:${event.binding}`,
          version: 0,
          binding: event.binding,
          tool: event.tool,
          summary: event.summary,
          args: event.args,
          reason: event.reason,
          deadline: event.deadline,
          state: 'open',
        });
        return;
      case 'prompt.answered': {
        const row = this.get<PromptRow>(`prompt:${event.binding}`);
        if (!row) return;
        row.state = 'answered';
        row.decision = event.decision;
        if (event.comment !== undefined) row.comment = event.comment;
        this.touch(row);
        return;
      }
      case 'prompt.withdrawn': {
        const row = this.get<PromptRow>(`prompt:${event.binding}`);
        if (!row || row.state !== 'open') return;
        row.state = 'withdrawn';
        row.withdrawnReason = event.reason;
        this.touch(row);
        return;
      }
      case 'changeset.proposed':
        this.add({
          kind: 'changeset',
          key: `changeset:${event.changesetId}`,
          version: 0,
          changesetId: event.changesetId,
          summary: event.summary,
          files: event.files.map((f) => ({ ...f })),
          applied: false,
          round: event.round ?? 1,
        });
        return;
      case 'changeset.verdict': {
        const row = this.get<ChangesetRow>(`changeset:${event.changesetId}`);
        const file = row?.files.find((f) => f.binding === event.binding);
        if (!row || !file) return;
        file.verdict = event.verdict;
        if (event.decision !== undefined) file.decision = event.decision;
        if (event.comment !== undefined) file.comment = event.comment;
        if (event.lineComments?.length) file.lineComments = event.lineComments.length;
        this.touch(row);
        return;
      }
      case 'changeset.conflict': {
        const row = this.get<ChangesetRow>(`changeset:${event.changesetId}`);
        const file = row?.files.find((f) => (event.binding !== undefined ? f.binding === event.binding : f.path === event.conflict.path));
        if (row && file) {
          file.conflict = event.conflict;
          this.touch(row);
        } else this.add({ kind: 'notice', key: `notice:${event.seq}`, version: 0, message: `Conflict: ${event.conflict.path} — ${event.conflict.reason}` });
        return;
      }
      case 'changeset.reverted': {
        const count = (status: string) => event.results.filter((r) => r.status === status).length;
        const conflicts = event.results.filter((r) => r.status === 'conflict').map((r) => r.path);
        this.add({
          kind: 'notice',
          key: `notice:${event.seq}`,
          version: 0,
          message: `Reverted this task's changes: ${count('applied')} file${count('applied') === 1 ? '' : 's'} restored${conflicts.length ? `; left alone (changed since): ${conflicts.join(', ')}` : ''}.`,
        });
        return;
      }
      case 'changeset.applied': {
        const row = this.get<ChangesetRow>(`changeset:${event.changesetId}`);
        if (!row) return;
        row.applied = true;
        for (const result of event.results) {
          const file = row.files.find((f) => f.path === result.path);
          if (file) file.result = result;
        }
        this.touch(row);
        return;
      }
      case 'usage':
        h.inputTokens = event.inputTokens;
        h.outputTokens = event.outputTokens;
        if (event.costUsd !== undefined) h.costUsd = event.costUsd;
        if (event.budgetUsd !== undefined) h.budgetUsd = event.budgetUsd;
        return;
      case 'budget':
        h.budgets = event.meters;
        // The warning and a person's raise are part of the story; the stop comes as an error with its action.
        if ((event.change === 'warning' || event.change === 'raised') && event.message) {
          this.add({ kind: 'notice', key: `budget:${event.seq}`, version: 0, message: event.message });
        }
        return;
      case 'error': {
        const last = this.rows.at(-1);
        if (last?.kind === 'error' && last.errorKind === event.kind && last.message === event.message) {
          last.repeats += 1;
          this.touch(last);
          return;
        }
        this.add({
          kind: 'error',
          key: `error:${event.seq}`,
          version: 0,
          errorKind: event.kind,
          message: event.message,
          ...(event.action ? { action: event.action } : {}),
          fatal: event.fatal,
          repeats: 1,
        });
        return;
      }
      case 'notice':
        this.add({ kind: 'notice', key: `notice:${event.seq}`, version: 0, message: event.message });
        return;
      case 'environment.state':
        h.environment = event.state;
        if (event.detail !== undefined) h.environmentDetail = event.detail;
        else delete h.environmentDetail;
        return;
    }
  }

  private completeTool(event: EngineEventOf<'tool.completed'>): void {
    const key = `tool:${event.callId}`;
    let row = this.get<ToolRow>(key);
    if (!row) {
      row = { kind: 'tool', key, version: 0, tool: event.tool, argsSummary: '', status: event.status };
      this.add(row);
    }
    row.status = event.status;
    row.durationMs = event.durationMs;
    row.resultBytes = event.resultBytes;
    if (event.resultSummary !== undefined) row.resultSummary = event.resultSummary;
    this.touch(row);
  }

  /** A turn that ended leaves no message streaming. */
  private closeStreaming(): void {
    for (let i = this.rows.length - 1; i >= 0 && i >= this.rows.length - 50; i--) {
      const row = this.rows[i]!;
      if (row.kind === 'agent' && !row.done) {
        row.done = true;
        this.touch(row);
      }
    }
  }

  private get<R extends Row>(key: string): R | undefined {
    return this.byKey.get(key) as R | undefined;
  }

  private add(row: Row): void {
    if (this.byKey.has(row.key)) return;
    this.rows.push(row);
    this.byKey.set(row.key, row);
    this.listVersion++;
  }

  private touch(row: Row): void {
    row.version++;
    this.changedKeys.add(row.key);
  }
}
