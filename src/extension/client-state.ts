/**
 * What the extension knows of the server's sessions: the list, which one the panel shows, and the questions still
 * open (so a hidden panel can still be answered from a notification). The transcripts themselves stay in the server
 * (replayed on demand) and in the webview; the extension host keeps no per-event history.
 */
import * as vscode from 'vscode';
import type { EngineEvent, EngineEventOf } from '../protocol/events.js';
import type { SessionSummary } from '../protocol/webview.js';

export type OpenPrompt = EngineEventOf<'prompt.asked'>;
export type OpenChangeset = EngineEventOf<'changeset.proposed'>;

export class ClientState implements vscode.Disposable {
  sessions: SessionSummary[] = [];
  selected: string | null = null;
  readonly prompts = new Map<string, OpenPrompt>();
  readonly changesets = new Map<string, OpenChangeset>();
  private readonly sessionsChanged = new vscode.EventEmitter<void>();
  private readonly eventsArrived = new vscode.EventEmitter<{ sessionId: string; events: EngineEvent[] }>();
  readonly onSessionsChanged = this.sessionsChanged.event;
  readonly onEvents = this.eventsArrived.event;

  setSessions(sessions: SessionSummary[]): void {
    this.sessions = sessions;
    this.sessionsChanged.fire();
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
          if (e.files.some((f) => f.state === 'ready')) this.changesets.set(e.changesetId, e);
          break;
        case 'changeset.applied':
          this.changesets.delete(e.changesetId);
          break;
        case 'turn.ended':
          this.forgetSession(sessionId);
          break;
        default:
          break;
      }
    }
    this.eventsArrived.fire({ sessionId, events });
  }

  /** The server restarted: nothing it had open is open any more until it says so again. */
  reset(): void {
    this.prompts.clear();
    this.changesets.clear();
  }

  running(): number {
    return this.sessions.filter((s) => s.status === 'running' || s.status === 'waiting' || s.status === 'starting').length;
  }

  waiting(): number {
    return this.prompts.size + this.changesets.size;
  }

  dispose(): void {
    this.sessionsChanged.dispose();
    this.eventsArrived.dispose();
  }

  private forgetSession(sessionId: string): void {
    for (const [k, p] of this.prompts) if (p.sessionId === sessionId) this.prompts.delete(k);
    for (const [k, c] of this.changesets) if (c.sessionId === sessionId) this.changesets.delete(k);
  }
}
