/**
 * The extension's one context object (rust-analyzer's `ctx.ts` in spirit): the server, the client-side session state,
 * and the two lifetimes of disposables — the extension's (`context.subscriptions`) and the server's (cleared when a
 * new client is made). Everything else receives it explicitly; there is no module-level state.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { EngineEvent } from '../protocol/events.js';
import {
  ApplyWorkspaceEdit,
  ChangesetsChanged,
  Configure,
  IdentityChanged,
  ListSessions,
  OpenExternal,
  PendingChangesets,
  ProposedFile,
  ReadWorkspaceFiles,
  ServerStatus,
  SessionEvents,
  SessionsChanged,
  SignInProgress,
  isFailure,
  type IdentityStatus,
  type RequestFailure,
} from '../protocol/lsp.js';
import { ClientState } from './client-state.js';
import { applyWorkspaceEdit, readWorkspaceFiles } from './review/apply-edit.js';
import { Review } from './review/review.js';
import { DeputyServer, type Health } from './server.js';
import { readSettings } from './settings.js';
import { SESSIONS_LEFT_RUNNING } from './workspace-state.js';


export interface DeputyListeners {
  events(sessionId: string, events: EngineEvent[]): void;
  /** The server (re)started and the session list is fresh: views replay what they show. */
  refreshed(): void;
  health(h: Health & { running: number }): void;
}

export class Deputy implements vscode.Disposable {
  readonly state = new ClientState(<T>() => new vscode.EventEmitter<T>());
  /** The editor's side of reviewing changesets: read-only documents, drafts, line comments. */
  readonly review: Review;
  readonly server: DeputyServer;
  private readonly listeners: DeputyListeners[] = [];
  private health: Health = { state: 'stopped', message: 'not started' };
  /** Who the server says Deputy acts as; undefined until it said so. */
  identity: IdentityStatus | undefined;
  private readonly identityChanged = new vscode.EventEmitter<IdentityStatus>();
  readonly onIdentity = this.identityChanged.event;
  private readonly signInProgress = new vscode.EventEmitter<SignInProgress.Params>();
  /** A device-code sign-in's code and link, for the sign-in notification. */
  readonly onSignInProgress = this.signInProgress.event;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.review = new Review((ref) => this.request(ProposedFile.type, { sessionId: ref.sessionId, changesetId: ref.changesetId, binding: ref.binding }));
    this.server = new DeputyServer(context, log, {
      install: (client) => this.install(client),
      started: (client) => void this.reattach(client),
      health: (h) => this.setHealth(h),
    });
  }

  listen(l: DeputyListeners): vscode.Disposable {
    this.listeners.push(l);
    return new vscode.Disposable(() => this.listeners.splice(this.listeners.indexOf(l), 1));
  }

  client(): Promise<LanguageClient> {
    return this.server.ensure();
  }

  // The message types of src/protocol/lsp.ts are sent by their method name: the language client is bundled apart
  // (see language-client.ts) with its own copy of vscode-jsonrpc, whose checks would not recognise this bundle's
  // type objects. The types still check every call here.
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    return (await this.client()).sendRequest<R>(type.method, params, token);
  }

  async request0<R>(type: RequestType0<R, void>): Promise<R> {
    return (await this.client()).sendRequest<R>(type.method);
  }

  async notify<P>(type: NotificationType<P>, params: P): Promise<void> {
    await (await this.client()).sendNotification(type.method, params);
  }

  /** Sends the current settings; a no-op while the server is not running (it reads them when it starts). */
  configure(): void {
    if (this.server.running) void this.notify(Configure.type, readSettings());
  }

  /** A refusal from the server, shown once with its action. */
  async showFailure(f: RequestFailure): Promise<void> {
    const action = f.failure.action;
    const label = action?.kind === 'signIn' ? 'Sign In' : action?.kind === 'openSetting' ? 'Open Setting' : action?.kind === 'retry' ? 'Retry' : undefined;
    const pick = await (label ? vscode.window.showErrorMessage(f.failure.message, label) : vscode.window.showErrorMessage(f.failure.message));
    if (pick && action) await runAction(action);
  }

  get currentHealth(): Health {
    return this.health;
  }

  dispose(): void {
    this.identityChanged.dispose();
    this.signInProgress.dispose();
    this.review.dispose();
    this.state.dispose();
    void this.server.dispose();
  }

  private install(client: LanguageClient): void {
    on(client, SessionEvents.type, (p) => {
      this.state.applyEvents(p.sessionId, p.events);
      for (const l of this.listeners) l.events(p.sessionId, p.events);
    });
    on(client, SessionsChanged.type, (p) => {
      this.state.setSessions(p.sessions);
      void this.context.workspaceState.update(SESSIONS_LEFT_RUNNING, this.state.running() > 0);
      this.setHealth(this.health);
    });
    on(client, IdentityChanged.type, (p) => {
      this.identity = p;
      this.identityChanged.fire(p);
    });
    on(client, SignInProgress.type, (p) => this.signInProgress.fire(p));
    // The server's browser sign-in: only a web page, opened where the person is (the local machine in a remote window).
    client.onRequest(OpenExternal.method, async (p: OpenExternal.Params): Promise<OpenExternal.Result> => {
      if (!/^https?:\/\//i.test(p.url)) return { opened: false };
      return { opened: await vscode.env.openExternal(vscode.Uri.parse(p.url, true)) };
    });
    on(client, ChangesetsChanged.type, (p) => this.state.setPending(p.changesets));
    // The server's workspace port in the editor: writes go through one WorkspaceEdit, reads see unsaved buffers.
    client.onRequest(ApplyWorkspaceEdit.method, async (p: ApplyWorkspaceEdit.Params) => {
      const answer = await applyWorkspaceEdit(p);
      // What did not apply, in the log: the card says it too, but this is where a support question starts.
      for (const r of answer.results) if (r.status !== 'applied') this.log.warn(`${p.label}: ${r.path} ${r.status}${r.reason ? `: ${r.reason}` : ''}`);
      return answer;
    });
    client.onRequest(ReadWorkspaceFiles.method, (p: ReadWorkspaceFiles.Params) => readWorkspaceFiles(p));
    on(client, ServerStatus.type, (p) => {
      if (p.health === 'error') this.log.warn(p.message);
      this.setHealth({ state: p.health === 'error' ? 'running' : this.health.state, message: p.message });
    });
  }

  private async reattach(client: LanguageClient): Promise<void> {
    this.state.reset();
    try {
      const r = await client.sendRequest<ListSessions.Result>(ListSessions.method, { attach: true });
      this.state.setSessions(r.sessions);
    } catch (err) {
      this.log.error(`Listing sessions failed: ${String(err)}`);
    }
    try {
      const r = await client.sendRequest<PendingChangesets.Result>(PendingChangesets.method);
      this.state.setPending(r.changesets);
    } catch (err) {
      // An older server without the request: the "Changes" view (emptied when the old server stopped) fills from
      // notifications.
      this.log.warn(`Listing pending changesets failed: ${String(err)}`);
    }
    for (const l of this.listeners) l.refreshed();
  }

  private setHealth(h: Health): void {
    // A server that is not running asks nothing: its open questions are gone at once (badge, notifications), and the
    // new server asks them again when their sessions reattach.
    if (h.state !== 'running') this.state.reset();
    this.health = h;
    for (const l of this.listeners) l.health({ ...h, running: this.state.running() });
  }
}

export async function runAction(action: NonNullable<RequestFailure['failure']['action']>, sessionId?: string): Promise<void> {
  switch (action.kind) {
    case 'signIn':
      await vscode.commands.executeCommand('deputy.signIn', action.profile);
      return;
    case 'openSetting':
      await vscode.commands.executeCommand('workbench.action.openSettings', action.setting);
      return;
    case 'raiseBudget':
      await vscode.commands.executeCommand('deputy.raiseBudget', sessionId, action.scope);
      return;
    case 'retry':
      await vscode.commands.executeCommand('deputy.restartServer');
      return;
  }
}

export { isFailure };

function on<P>(client: LanguageClient, type: NotificationType<P>, handler: (params: P) => void): void {
  client.onNotification(type.method, handler);
}
