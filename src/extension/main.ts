/**
 * Deputy's VS Code extension entry (dist/extension.js). Activation (at `onStartupFinished`, so that a session left
 * running here is reattached and an AWS identity shows in the status bar) registers only what VS Code needs from the
 * start — the commands, the panel's view provider, the chat participant, the code lens and proposed-change providers
 * and the status item — each as a stand-in. The body of the extension (full.ts, bundled as dist/extension-full.js)
 * is `require`d the first time a stand-in is used, or at once, after activation returns, when a session was left
 * running or an AWS identity is in play; it then registers the real providers and commands in their place.
 */
import * as vscode from 'vscode';
import type { Loaded } from './full.js';
import { CHANGES_VIEW_ID, CHAT_PARTICIPANT_ID, COMMAND_IDS, PANEL_VIEW_ID, REVIEW_COMMAND_IDS } from './manifest-ids.js';
import { PROPOSED_SCHEME } from './review/uris.js';
import { SESSIONS_LEFT_RUNNING } from './workspace-state.js';

export function activate(context: vscode.ExtensionContext): void {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Deputy', { log: true });
  context.subscriptions.push(log);
  /** The stand-ins that give way to the body's own registrations when it loads. */
  const standIns: vscode.Disposable[] = [];
  let loaded: Loaded | undefined;
  const load = (why: string): Loaded => {
    if (loaded) return loaded;
    const t = performance.now();
    for (const d of standIns.splice(0)) d.dispose();
    // A separate bundle (scripts/build.mjs), required by its path so the entry's bundle does not inline it.
    const full = require(vscode.Uri.joinPath(context.extensionUri, 'dist', 'extension-full.js').fsPath) as typeof import('./full.js');
    loaded = full.load(context, log);
    log.info(`Deputy loaded for ${why} in ${(performance.now() - t).toFixed(1)} ms`);
    return loaded;
  };
  /** Runs `use` with the body loaded; a failure to load is shown, not swallowed (the panel would stay empty). */
  const withLoaded = <T>(why: string, use: (l: Loaded) => T): T => {
    try {
      return use(load(why));
    } catch (err) {
      log.error(`Loading Deputy for ${why} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      void vscode.window.showErrorMessage(`Deputy could not start: ${err instanceof Error ? err.message : String(err)}`, 'Show Log').then((p) => (p ? log.show() : undefined));
      throw err;
    }
  };

  // Each command stand-in loads the body (which registers the real command under the same id) and runs it.
  for (const id of [...COMMAND_IDS, ...REVIEW_COMMAND_IDS]) {
    standIns.push(
      vscode.commands.registerCommand(id, (...args: unknown[]) => {
        withLoaded(`the command ${id}`, () => undefined);
        return vscode.commands.executeCommand(id, ...args);
      }),
    );
  }
  const status = vscode.window.createStatusBarItem('deputy.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Deputy';
  status.command = 'deputy.openPanel';
  status.text = '$(hubot) Deputy';
  status.tooltip = 'Deputy: not started (starts with the panel or a command)\n0 sessions running';
  status.show();
  standIns.push(status);
  standIns.push(codeLensStandIn((why) => void withLoaded(why, () => undefined)));
  standIns.push(changesTreeStandIn((why) => void withLoaded(why, () => undefined)));

  // These stay registered: VS Code allows one provider per view, participant and scheme, so they delegate.
  const participant = vscode.chat.createChatParticipant(CHAT_PARTICIPANT_ID, (...args) => withLoaded('the chat', (l) => l.chat(...args)));
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'deputy.svg');
  context.subscriptions.push(
    new vscode.Disposable(() => {
      for (const d of standIns.splice(0)) d.dispose();
    }),
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, {
      resolveWebviewView: (view) => withLoaded('the panel', (l) => l.panel.resolveWebviewView(view)),
    }),
    participant,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, {
      provideTextDocumentContent: (uri, token) => withLoaded('a proposed change', (l) => l.content.provideTextDocumentContent(uri, token)),
    }),
  );

  const c = vscode.workspace.getConfiguration('deputy');
  // An AWS identity in play: the server starts at once so the status bar shows who acts and when the sign-in ends.
  const identityInPlay = Boolean(c.get<string>('bedrock.profile')?.trim() || process.env.AWS_PROFILE || c.get<string>('endpoint') === 'bedrock');
  if (context.workspaceState.get<boolean>(SESSIONS_LEFT_RUNNING) || (identityInPlay && vscode.workspace.workspaceFolders?.length)) {
    log.info('A session was running when this window closed, or an AWS profile is in use: starting the server.');
    // After activation returns: loading the body and spawning the server is not activation's cost.
    setImmediate(() => {
      try {
        withLoaded('a session left running or an AWS identity', (l) => l.startServer());
      } catch {
        // Logged and shown by withLoaded.
      }
    });
  }
  log.info(`Deputy activated in ${(performance.now() - t0).toFixed(1)} ms`);
}

/**
 * Stands in for the code lenses (`deputy.codeLens.enabled`, on by default) until the body loads: the first request
 * for lenses on a file loads it, and its providers, registered then, draw them (VS Code asks again when a provider
 * is added). Follows the setting while it waits.
 */
function codeLensStandIn(load: (why: string) => void): vscode.Disposable {
  let provider: vscode.Disposable | undefined;
  const apply = () => {
    const on = vscode.workspace.getConfiguration('deputy').get<unknown>('codeLens.enabled') !== false;
    if (on && !provider) {
      provider = vscode.languages.registerCodeLensProvider({ scheme: 'file' }, {
        provideCodeLenses: () => {
          setImmediate(() => load('the code lenses'));
          return [];
        },
      });
    } else if (!on && provider) {
      provider.dispose();
      provider = undefined;
    }
  };
  apply();
  const watch = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('deputy.codeLens')) apply();
  });
  return new vscode.Disposable(() => {
    watch.dispose();
    provider?.dispose();
  });
}

/**
 * Stands in for the Changes view until the body loads: the view can be shown without the panel (moved elsewhere, or
 * the Agent view collapsed), and showing it loads the body, whose own tree view takes the id over.
 */
function changesTreeStandIn(load: (why: string) => void): vscode.Disposable {
  const view = vscode.window.createTreeView<never>(CHANGES_VIEW_ID, { treeDataProvider: { getChildren: () => [], getTreeItem: (n) => n } });
  const shown = () => setImmediate(() => load('the Changes view'));
  if (view.visible) shown();
  const watch = view.onDidChangeVisibility((e) => {
    if (e.visible) shown();
  });
  return vscode.Disposable.from(watch, view);
}

export function deactivate(): void {
  // The context's subscriptions stop the server; running sessions go on at the endpoint and reattach next time.
}
