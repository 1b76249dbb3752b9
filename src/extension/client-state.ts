/**
 * What the extension knows of the server's sessions: the list, which one the panel shows, and the questions still
 * open (so a hidden panel can still be answered from a notification). The transcripts themselves stay in the server
 * (replayed on demand) and in the webview; the extension host keeps no per-event history.
 */
import type * as vscode from 'vscode';
import type { ChangesetFile, EngineEvent, EngineEventOf } from '../protocol/events.js';
import type { PendingChangeset } from '../protocol/lsp.js';
import type { SessionSummary } from '../protocol/webview.js';

export type OpenPrompt = EngineEventOf<'prompt.asked'>;
export type OpenChangeset = EngineEventOf<'changeset.proposed'>;

/** An event source as VS Code's `EventEmitter` is one. */
export interface Emitter<T> {
  readonly event: vscode.Event<T>;
  fire(data: T): void;
  dispose(): void;
}

/**
 * Makes the state's event sources: VS Code's `EventEmitter` in the extension, passed in so that this module loads
 * without VS Code (a unit test gives its own).
 */
export type Emitters = <T>() => Emitter<T>;

export class ClientState implements vscode.Disposable {
  sessions: SessionSummary[] = [];
  selected: string | null = null;
  readonly prompts = new Map<string, OpenPrompt>();
  readonly changesets = new Map<string, OpenChangeset>();
  /** Bindings of open changesets' files the engine has taken a decision for. */
  readonly decided = new Set<string>();
  /** Every changeset waiting for a person, across sessions, as the server last listed them (the "Changes" view). */
  pending: PendingChangeset[] = [];
  private readonly pendingChanged: Emitter<void>;
  readonly onPendingChanged: vscode.Event<void>;
  private readonly sessionsChanged: Emitter<void>;
  private readonly eventsArrived: Emitter<{ sessionId: string; events: EngineEvent[] }>;
  readonly onSessionsChanged: vscode.Event<void>;
  readonly onEvents: vscode.Event<{ sessionId: string; events: EngineEvent[] }>;

  constructor(emitter: Emitters) {
    this.pendingChanged = emitter();
    this.onPendingChanged = this.pendingChanged.event;
    this.sessionsChanged = emitter();
    this.onSessionsChanged = this.sessionsChanged.event;
    this.eventsArrived = emitter();
    this.onEvents = this.eventsArrived.event;
  }

  setSessions(sessions: SessionSummary[]): void {
    this.sessions = sessions;
    this.sessionsChanged.fire();
  }

  setPending(changesets: PendingChangeset[]): void {
    this.pending = changesets;
    this.pendingChanged.fire();
  }

  select(sessionId: string | null): void {
    this.selected = sessionId;
    this.sessionsChanged.fire();
  }

  applyEvents(sessionId: string, events: EngineEvent[]): void {
    // A first event (seq 1) is a new server process's first word about the session: what was open before is gone.
    if (events[0]?.seq === 1) this.forgetSession(sessionId);
    for (const e of events) {
      switch (e.type) {
        case 'prompt.asked':
          this.prompts.set(e.binding, e);
          break;
        case 'prompt.answered':
        case 'prompt.withdrawn':
          this.prompts.delete(e.binding);
          break;
        case 'changeset.proposed':
          if (e.files.some((f) => f.state !== 'invalid')) this.changesets.set(e.changesetId, e);
          break;
        case 'changeset.verdict':
          this.decided.add(e.binding);
          break;
        case 'changeset.applied': {
          const c = this.changesets.get(e.changesetId);
          for (const f of c?.files ?? []) this.decided.delete(f.binding);
          this.changesets.delete(e.changesetId);
          break;
        }
        case 'turn.ended':
          this.forgetSession(sessionId);
          break;
        default:
          break;
      }
    }
    this.eventsArrived.fire({ sessionId, events });
  }

  /**
   * The server stopped or restarted: nothing it had open is open any more until it says so again. That includes the
   * Changes view's list: a verdict given there would go to a server that never asked; reattaching lists it again.
   */
  reset(): void {
    this.prompts.clear();
    this.changesets.clear();
    this.decided.clear();
    if (this.pending.length > 0) this.setPending([]);
  }

  /** A file of an open changeset, by its binding. */
  fileOf(binding: string): { changeset: OpenChangeset; file: ChangesetFile } | undefined {
    for (const changeset of this.changesets.values()) {
      const file = changeset.files.find((f) => f.binding === binding);
      if (file) return { changeset, file };
    }
    return undefined;
  }

  /** Whether a file can still take a decision (open, ready or in conflict, not decided). */
  isOpen(binding: string): boolean {
    const f = this.fileOf(binding)?.file;
    return f !== undefined && f.state !== 'invalid' && !this.decided.has(binding);
  }

  running(): number {
    return this.sessions.filter((s) => s.status === 'running' || s.status === 'waiting' || s.status === 'starting').length;
  }

  waiting(): number {
    return this.prompts.size + this.changesets.size;
  }

  dispose(): void {
    this.sessionsChanged.dispose();
    this.pendingChanged.dispose();
    this.eventsArrived.dispose();
  }

  private forgetSession(sessionId: string): void {
    for (const [k, p] of this.prompts) if (p.sessionId === sessionId) this.prompts.delete(k);
    for (const [k, c] of this.changesets) {
      if (c.sessionId !== sessionId) continue;
      for (const f of c.files) this.decided.delete(f.binding);
      this.changesets.delete(k);
    }
  }
}
