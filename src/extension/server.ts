/**
 * The language server's lifetime, seen from the extension: started on first need (never at activation by itself),
 * restarted when it crashes (a few times, then it stops and says so), with the API keys handed over at each spawn.
 * After every (re)start the session list is asked for with `attach`, so running sessions reattach and their open
 * prompts come back. The extension host never waits on a stream: events arrive as notifications.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { SECRET_FILE_ENV, type ServerInitOptions } from '../protocol/lsp.js';
import type { ServerState } from '../protocol/webview.js';
import { readSecrets, removeSecretFile, writeSecretFile } from './secrets.js';
import { endServerProcess } from './server-process.js';
import { readSettings } from './settings.js';
import { signedOutProfiles } from './signed-out.js';

/** Crash restarts allowed within RESTART_WINDOW_MS before the server is left stopped. */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60_000;
/** How long a stopping server gets to detach its sessions and close its audit trails (the client's default is 2 s). */
const STOP_TIMEOUT_MS = 10_000;
/** After the stop, how long its process gets to exit before it is ended. */
const EXIT_GRACE_MS = 3_000;

type ClientModule = typeof import('./language-client.js');

export type Health = { state: ServerState; message: string };

export interface ServerHooks {
  /** Installs notification handlers on a new client (they survive the client's own restarts). */
  install(client: LanguageClient): void;
  /** The server is up (first start or a restart): reattach sessions. */
  started(client: LanguageClient): void;
  health(h: Health): void;
}

export class DeputyServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly crashes: number[] = [];
  private lastFailure = '';
  private lc: ClientModule | undefined;
  /** The process of the current client's server (the client does not track a process a function spawned). */
  private child: ChildProcess | undefined;
  /** A Restart Server under way: requests wait for its new server instead of starting one beside the old. */
  private restarting: Promise<void> | undefined;
  /** A restart asked for while one was under way: it replaces the server that one starts. */
  private nextRestart: Promise<void> | undefined;
  /** A server has run in this window (so a stop is a restart to the person, not a first start). */
  hasRun = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly hooks: ServerHooks,
  ) {}

  get running(): boolean {
    return !!this.lc && this.client?.state === this.lc.State.Running;
  }

  /** A start or restart is under way: a server spawned now may have read the keys before a change to them. */
  get busy(): boolean {
    return !!this.starting || !!this.restarting || !!this.nextRestart || (!!this.lc && this.client?.state === this.lc.State.Starting);
  }

  /** Why requests cannot be served now, or undefined when they can (after `ensure`). */
  get notReadyReason(): string | undefined {
    if (!vscode.workspace.workspaceFolders?.length) return 'Deputy works in a workspace folder: open a folder first.';
    if (this.lastFailure && !this.running) return `Deputy's server is not running: ${this.lastFailure}`;
    return undefined;
  }

  /** The running client, starting the server if needed. */
  ensure(): Promise<LanguageClient> {
    const restart = this.nextRestart ?? this.restarting;
    if (restart) return restart.then(() => this.ensure());
    if (this.client && this.running) return Promise.resolve(this.client);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /**
   * Resolves once a server spawned after this call runs (with the keys stored by then), so what follows uses it. A
   * start or restart already under way may have spawned its server before the change that asks for this one: this
   * one then comes after it (calls made meanwhile share that next one).
   */
  restart(why: string): Promise<void> {
    this.log.info(`Restart of the Deputy server asked for: ${why}.`);
    const underWay: Promise<unknown> | undefined = this.restarting ?? this.starting;
    let run: Promise<void>;
    if (this.nextRestart) run = this.nextRestart;
    else if (underWay) {
      run = this.nextRestart = underWay.catch(() => undefined).then(() => {
        this.nextRestart = undefined;
        return this.restartNow();
      });
    } else run = this.restartNow();
    return run.then(() => this.ensure()).then(() => undefined);
  }

  private restartNow(): Promise<void> {
    const run: Promise<void> = this.replace().finally(() => {
      if (this.restarting === run) this.restarting = undefined;
    });
    this.restarting = run;
    return run;
  }

  private async replace(): Promise<void> {
    // Said before the old server stops: its open questions can no longer be answered (the panel drops them now).
    this.hooks.health({ state: 'starting', message: 'restarting' });
    this.log.info('Restarting the Deputy server.');
    this.crashes.length = 0;
    this.lastFailure = '';
    const old = this.client;
    const oldChild = this.child;
    this.client = undefined;
    if (old) await old.stop(STOP_TIMEOUT_MS).catch(() => undefined);
    old?.dispose().catch(() => undefined);
    await endServerProcess(oldChild, EXIT_GRACE_MS);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    await this.starting;
    this.log.info('The Deputy server restarted.');
  }

  async dispose(): Promise<void> {
    const c = this.client;
    const child = this.child;
    this.client = undefined;
    await c?.stop(STOP_TIMEOUT_MS).catch(() => undefined);
    await endServerProcess(child, EXIT_GRACE_MS);
  }

  private async start(): Promise<LanguageClient> {
    // require, not import: loaded on first need, see language-client.ts
    const lc: ClientModule = (this.lc ??= require(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'language-client.js').fsPath) as ClientModule);
    const serverModule = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'server.js').fsPath;
    const secrets = this.context.secrets;
    const log = this.log;
    // Called for every spawn, restarts included: a fresh key file each time.
    const serverOptions: ServerOptions = async () => {
      const file = await writeSecretFile(await readSecrets(secrets));
      const child = spawn(process.execPath, [serverModule, '--stdio'], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...(file ? { [SECRET_FILE_ENV]: file } : {}) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stderr?.on('data', (d: Buffer) => log.warn(`server: ${d.toString().trimEnd()}`));
      child.on('exit', () => void removeSecretFile(file));
      this.child = child;
      return child;
    };
    const clientOptions: LanguageClientOptions = {
      // Cedar policy files go to the server for diagnostics (src/server/policy-diagnostics.ts); nothing else does.
      documentSelector: [{ scheme: 'file', pattern: '**/*.cedar' }],
      outputChannel: log,
      initializationOptions: (): ServerInitOptions => ({
        settings: readSettings(),
        signedOutProfiles: signedOutProfiles(this.context),
        clientVersion: String((this.context.extension.packageJSON as { version?: string }).version ?? ''),
        // This client answers deputy/applyWorkspaceEdit and deputy/readWorkspaceFiles (deputy.ts): without saying so,
        // the server wrote approved changes to the disk itself, so they bypassed the editor's undo and unsaved buffers.
        editorFiles: true,
      }),
      errorHandler: {
        error: () => ({ action: lc.ErrorAction.Continue }),
        closed: () => this.onClosed(lc),
      },
    };
    const client = new lc.LanguageClient('deputy', 'Deputy', serverOptions, clientOptions);
    this.client = client;
    this.hooks.install(client);
    client.onDidChangeState((e) => {
      if (e.newState === lc.State.Running) {
        this.hasRun = true;
        this.hooks.health({ state: 'running', message: 'ready' });
        this.hooks.started(client);
      } else if (e.newState === lc.State.Starting) {
        this.hooks.health({ state: 'starting', message: 'starting' });
      }
    });
    this.hooks.health({ state: 'starting', message: 'starting' });
    try {
      await client.start();
    } catch (err) {
      this.lastFailure = err instanceof Error ? err.message : String(err);
      this.hooks.health({ state: 'failed', message: this.lastFailure });
      this.client = undefined;
      throw err;
    }
    return client;
  }

  private onClosed(lc: ClientModule): { action: import('vscode-languageclient/node').CloseAction; message?: string; handled?: boolean } {
    const now = Date.now();
    this.crashes.push(now);
    while (this.crashes.length && now - this.crashes[0]! > RESTART_WINDOW_MS) this.crashes.shift();
    if (this.crashes.length > MAX_RESTARTS) {
      this.lastFailure = `it stopped ${this.crashes.length} times in 3 minutes. See the log (Deputy: Show Log), then run Deputy: Restart Server.`;
      this.hooks.health({ state: 'failed', message: this.lastFailure });
      return { action: lc.CloseAction.DoNotRestart, message: `Deputy's server ${this.lastFailure}`, handled: false };
    }
    this.log.warn(`The Deputy server stopped; restarting it (running sessions reattach).`);
    this.hooks.health({ state: 'starting', message: 'restarting after a crash' });
    return { action: lc.CloseAction.Restart, handled: true };
  }
}
