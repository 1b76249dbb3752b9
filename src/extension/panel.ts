/**
 * The agent panel: a webview view in Deputy's own activity-bar container (movable to the secondary side bar). The page
 * is `webviewHtml` from src/protocol/webview.ts (strict CSP, a fresh nonce, only dist/ and media/ loadable); every
 * message from it goes through `parseFromWebview` before anything acts on it. While the panel is hidden, open
 * questions show as a badge on the view (and as notifications, see hidden-prompts.ts).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineEvent } from '../protocol/events.js';
import { SessionEventLog, isFailure } from '../protocol/lsp.js';
import { webviewHtml, type PanelError, type ToWebview } from '../protocol/webview.js';
import type { Deputy } from './deputy.js';
import { handleIntent } from './intents.js';
import { receiveFromPanel } from './panel-inbox.js';
import { PANEL_VIEW_ID } from './manifest-ids.js';
import { panelSettings } from './panel-settings.js';

export { PANEL_VIEW_ID };

export class PanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  /** The current webview has said `ready` (a hidden panel's webview is created anew when shown). */
  private webviewReady = false;
  /** A New Task asked for before the webview was ready. */
  private pendingFocus: ToWebview | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private errorIds = 0;

  constructor(private readonly deputy: Deputy) {
    this.disposables.push(
      deputy.listen({
        events: (sessionId, events) => this.postEvents(sessionId, events),
        refreshed: () => void this.replay(),
        health: () => {
          this.postServer();
          this.updateBadge();
        },
      }),
      deputy.state.onSessionsChanged(() => {
        this.postState();
        this.updateBadge();
      }),
      deputy.review.onDidChange(() => this.postDrafts()),
    );
  }

  get visible(): boolean {
    return this.view?.visible === true;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.webviewReady = false;
    const root = this.deputy.context.extensionUri;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')],
    };
    view.webview.html = webviewHtml({
      cspSource: view.webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(root, 'dist', 'webview.js')).toString(),
    });
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) =>
        receiveFromPanel(raw, {
          handle: (message) => handleIntent(this.deputy, this, message),
          refuse: (text) => this.showError('internal', text),
          log: (line) => this.deputy.log.warn(line),
        }),
      ),
      view.onDidChangeVisibility(() => {
        // A hidden webview view's page is unloaded (its view object stays): messages would be lost until it loads
        // again and says `ready`.
        if (!view.visible) this.webviewReady = false;
        this.updateBadge();
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.webviewReady = false;
      }),
    );
    this.updateBadge();
  }

  /**
   * Shows the new-task form (`deputy.newTask`). A webview that has not said `ready` yet (the panel was hidden and is
   * being created) would lose the message, and would then restore the session it showed before: the request waits
   * for `ready` instead, and wins over that restore.
   */
  showNewTask(prompt?: string): void {
    this.deputy.state.select(null);
    const focus = { type: 'focusTask' as const, ...(prompt !== undefined ? { prompt } : {}) };
    if (this.webviewReady) {
      this.postState();
      this.post(focus);
    } else {
      this.pendingFocus = focus;
    }
  }

  /** The webview said `ready`: from now on messages reach it. Returns the New Task that waited for it, if any. */
  webviewLoaded(): ToWebview | undefined {
    this.webviewReady = true;
    const pending = this.pendingFocus;
    this.pendingFocus = undefined;
    return pending;
  }

  post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  postState(): void {
    this.post({ type: 'state', sessions: this.deputy.state.sessions, selectedSessionId: this.deputy.state.selected });
  }

  /** The review drafts of every open changeset (the card shows hunks dropped, reviewed marks, line comments). */
  postDrafts(): void {
    this.post({ type: 'reviewDrafts', drafts: this.deputy.review.draftsOf(this.deputy.state.changesets.values()) });
  }

  /** The server's state, so the panel drops the questions of a server that stopped and says it restarts. */
  postServer(): void {
    const h = this.deputy.currentHealth;
    this.post({ type: 'server', state: h.state, message: h.message, restart: this.deputy.server.hasRun });
  }

  postSettings(): void {
    this.post({ type: 'settings', ...panelSettings() });
  }

  showError(kind: PanelError['kind'], message: string, action?: PanelError['action']): void {
    this.post({ type: 'error', error: { errorId: `e${++this.errorIds}`, kind, message, ...(action ? { action } : {}) } });
  }

  /** Sends the whole log of the shown session (the webview drops what it had for it first). */
  async replay(): Promise<void> {
    this.postState();
    const id = this.deputy.state.selected;
    if (!id || !this.view) return;
    const r = await this.deputy.request(SessionEventLog.type, { sessionId: id, afterSeq: 0 });
    if (isFailure(r)) return;
    this.post({ type: 'events', sessionId: id, events: r.events, replace: true });
    this.postDrafts();
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private postEvents(sessionId: string, events: EngineEvent[]): void {
    // seq 1 starts a new server process's log of the session: the panel's copy is from the process before.
    this.post({ type: 'events', sessionId, events, replace: events[0]?.seq === 1 });
  }

  private updateBadge(): void {
    if (!this.view) return;
    const n = this.deputy.state.waiting();
    this.view.badge = n > 0 && !this.view.visible ? { value: n, tooltip: `${n} question${n === 1 ? '' : 's'} waiting for you` } : undefined;
  }
}
