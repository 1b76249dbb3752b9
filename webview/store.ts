/**
 * The panel's state: what the extension last said (sessions, settings, errors) and one transcript per session
 * seen. Views subscribe; a batch of messages notifies them once per animation frame.
 */
import type { AuditTimelineData, FileReviewDraft, PanelError, PanelSettings, ServerState, SessionSummary, ToWebview } from '../src/protocol/webview.js';
import { Transcript } from './transcript.js';

export type View = 'newTask' | 'session';

export class PanelStore {
  sessions: SessionSummary[] = [];
  selectedSessionId: string | null = null;
  settings: PanelSettings | null = null;
  /** Errors outside a session, newest last; each errorId once. */
  errors: PanelError[] = [];
  /** Text the extension asked to put in the task box (`deputy.newTask` with a prompt). */
  taskPrefill: { prompt: string; nonce: number } | null = null;
  /** Comments being typed on prompts and files, by binding, so a row scrolled out and back keeps them. */
  readonly drafts = new Map<string, string>();
  /** Bindings whose answer was sent and not yet confirmed by the engine: their buttons wait. */
  readonly sent = new Set<string>();
  /**
   * Bindings of conflicted files whose redo was asked of the agent. Apart from `sent`: a file approved (so `sent`) and
   * then found in conflict must still offer the redo.
   */
  readonly redoAsked = new Set<string>();
  /** Files of changesets the person expanded in the card, by binding (a windowed row scrolled back keeps it). */
  readonly expanded = new Set<string>();
  /** Review drafts as the extension holds them (hunks dropped, reviewed marks, line comments), by binding. */
  reviewDrafts: Record<string, FileReviewDraft> = {};
  /** Bumped whenever drafts or expanded files change, so changeset cards know to draw again. */
  reviewVersion = 0;
  /** Parsed Markdown of finished messages, by row object: parsed once, however often the row is drawn again. */
  readonly finishedHtml = new WeakMap<object, { text: string; html: string }>();
  /** The last audit timeline the extension sent, per session. */
  readonly audits = new Map<string, AuditTimelineData>();
  /** The language server's state as the extension last said it (null until it said). */
  server: { state: ServerState; message: string; restart: boolean } | null = null;
  private readonly dismissed = new Set<string>();
  private readonly transcripts = new Map<string, Transcript>();
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  constructor(private readonly schedule: (run: () => void) => void = (run) => requestAnimationFrame(run)) {}

  transcript(sessionId: string): Transcript {
    let t = this.transcripts.get(sessionId);
    if (!t) this.transcripts.set(sessionId, (t = new Transcript(sessionId)));
    return t;
  }

  get selectedTranscript(): Transcript | null {
    return this.selectedSessionId ? this.transcript(this.selectedSessionId) : null;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  receive(message: ToWebview): void {
    switch (message.type) {
      case 'state':
        this.sessions = message.sessions;
        this.selectedSessionId = message.selectedSessionId;
        break;
      case 'settings': {
        const { type: _type, ...settings } = message;
        this.settings = settings;
        break;
      }
      case 'events': {
        if (message.replace) this.transcripts.delete(message.sessionId);
        this.transcript(message.sessionId).apply(message.events);
        break;
      }
      case 'error':
        // A refused intent comes back as an error: answers sent and not confirmed may be given again.
        if (this.sent.size > 0 || this.redoAsked.size > 0) {
          this.sent.clear();
          this.redoAsked.clear();
          this.selectedTranscript?.refreshPending();
        }
        if (!this.dismissed.has(message.error.errorId) && !this.errors.some((e) => e.errorId === message.error.errorId)) {
          this.errors = [...this.errors, message.error];
        }
        break;
      case 'audit': {
        const { type: _type, ...data } = message;
        this.audits.set(message.sessionId, data);
        break;
      }
      case 'reviewDrafts':
        this.reviewDrafts = message.drafts;
        this.reviewVersion++;
        break;
      case 'server': {
        const { type: _type, ...server } = message;
        this.server = server;
        // The questions on screen were asked by a server that no longer runs: answering them could only be refused.
        if (server.state !== 'running') {
          for (const t of this.transcripts.values()) {
            for (const binding of t.serverStopped()) {
              this.sent.delete(binding);
              this.redoAsked.delete(binding);
            }
          }
        }
        break;
      }
      case 'focusTask':
        this.selectedSessionId = null;
        this.taskPrefill = { prompt: message.prompt ?? '', nonce: (this.taskPrefill?.nonce ?? 0) + 1 };
        break;
    }
    this.changed();
  }

  /** Local view change (no intent): the extension is told separately when it matters. */
  select(sessionId: string | null): void {
    this.selectedSessionId = sessionId;
    this.changed();
  }

  /** Local view change: a file of a changeset shown or hidden. */
  toggleExpanded(binding: string): void {
    if (this.expanded.has(binding)) this.expanded.delete(binding);
    else this.expanded.add(binding);
    this.reviewVersion++;
    this.changed();
  }

  /** What the panel says of the server, if anything: only a restart under way or a server that is not running. */
  get serverNotice(): string | null {
    const s = this.server;
    if (!s || s.state === 'running') return null;
    if (s.state === 'starting') return s.restart ? "Deputy's server is restarting. Open questions are asked again when their sessions reattach." : null;
    if (s.state === 'failed') return `Deputy's server is not running: ${s.message}`;
    return null;
  }

  dismissError(errorId: string): void {
    this.dismissed.add(errorId);
    this.errors = this.errors.filter((e) => e.errorId !== errorId);
    this.changed();
  }

  /** Coalesces every change of a frame into one notification. */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      for (const t of this.transcripts.values()) t.flush();
      for (const listener of this.listeners) listener();
    });
  }
}
