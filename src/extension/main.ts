/**
 * Deputy's VS Code extension entry (dist/extension.js). Activation is lazy: the panel, a command or the chat, or
 * the window's start in a workspace Deputy has worked in (`workspaceContains:.deputy`: its audit trail, policy or
 * embedded runtime are there, and so a session left running here is reattached and the code lenses and the AWS
 * identity show without a first click). It registers only what VS Code needs registered by the time activation
 * settles — the commands a person can reach before the body loads (VS Code runs the one that woke Deputy then), the
 * chat participant (likewise invoked then), the code lens and proposed-change providers — each as a stand-in, and
 * returns. The panel's and the Changes view's providers, the status item, the log channel and the check for a
 * session left running come right after (VS Code holds a view until its provider is registered; the rest is on no
 * request's path). The body of the extension (full.ts, bundled as dist/extension-full.js) is `require`d the first
 * time a stand-in is used, or at once, after activation returns, when a session was left running or an AWS identity
 * is in play; it then registers the real providers and commands in their place.
 *
 * Activation is measured against an empty extension's (bench/activation.ts): every API call here costs a message to
 * the workbench, so nothing is registered that the body registers anyway before anyone could use it.
 */
// Not `import * as`: the bundler would copy every member of VS Code's API into a namespace object at load (the
// largest part of this file's load time, measured); the entry uses the API object itself.
import vscode = require('vscode');
import type { Loaded } from './full.js';
import { BODY_ONLY_COMMAND_IDS, CHANGES_VIEW_ID, CHAT_PARTICIPANT_ID, COMMAND_IDS, PANEL_VIEW_ID, PROPOSED_SCHEME, REVIEW_COMMAND_IDS } from './manifest-ids.js';
import { SESSIONS_LEFT_RUNNING } from './workspace-state.js';

const BODY_ONLY: ReadonlySet<string> = new Set(BODY_ONLY_COMMAND_IDS);

export function activate(context: vscode.ExtensionContext): void {
  const t0 = performance.now();
  /** The log channel, created on its first line: a person opens it with Show Log, which loads the body. */
  let channel: vscode.LogOutputChannel | undefined;
  let activatedMs = 0;
  const log = (): vscode.LogOutputChannel => {
    if (channel) return channel;
    channel = vscode.window.createOutputChannel('Deputy', { log: true });
    context.subscriptions.push(channel);
    channel.info(`Deputy activated in ${activatedMs.toFixed(1)} ms`);
    return channel;
  };
  /** The stand-ins that give way to the body's own registrations when it loads. */
  const standIns: vscode.Disposable[] = [];
  let loaded: Loaded | undefined;
  const load = (why: string): Loaded => {
    if (loaded) return loaded;
    const t = performance.now();
    for (const d of standIns.splice(0)) d.dispose();
    // A separate bundle (scripts/build.mjs), required by its path so the entry's bundle does not inline it.
    const full = require(vscode.Uri.joinPath(context.extensionUri, 'dist', 'extension-full.js').fsPath) as typeof import('./full.js');
    loaded = full.load(context, log());
    log().info(`Deputy loaded for ${why} in ${(performance.now() - t).toFixed(1)} ms`);
    return loaded;
  };
  /** Runs `use` with the body loaded; a failure to load is shown, not swallowed (the panel would stay empty). */
  const withLoaded = <T>(why: string, use: (l: Loaded) => T): T => {
    try {
      return use(load(why));
    } catch (err) {
      log().error(`Loading Deputy for ${why} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      void vscode.window.showErrorMessage(`Deputy could not start: ${err instanceof Error ? err.message : String(err)}`, 'Show Log').then((p) => (p ? log().show() : undefined));
      throw err;
    }
  };
  /** Loads the body after the current call returns (a provider's request, answered empty meanwhile). */
  const loadSoon = (why: string) =>
    setImmediate(() => {
      try {
        withLoaded(why, () => undefined);
      } catch {
        // Logged and shown by withLoaded.
      }
    });

  // Each command stand-in loads the body (which registers the real command under the same id) and runs it.
  for (const id of [...COMMAND_IDS, ...REVIEW_COMMAND_IDS]) {
    if (BODY_ONLY.has(id)) continue;
    standIns.push(
      vscode.commands.registerCommand(id, (...args: unknown[]) => {
        withLoaded(`the command ${id}`, () => undefined);
        return vscode.commands.executeCommand(id, ...args);
      }),
    );
  }
  standIns.push(codeLensStandIn(loadSoon));

  // These stay registered: VS Code allows one provider per participant and scheme, so they delegate. The chat
  // participant cannot wait: VS Code's chat invokes it as soon as the activation it asked for settles.
  const participant = vscode.chat.createChatParticipant(CHAT_PARTICIPANT_ID, (...args) => withLoaded('the chat', (l) => l.chat(...args)));
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'deputy.svg');
  context.subscriptions.push(
    new vscode.Disposable(() => {
      for (const d of standIns.splice(0)) d.dispose();
    }),
    participant,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, {
      provideTextDocumentContent: (uri, token) => withLoaded('a proposed change', (l) => l.content.provideTextDocumentContent(uri, token)),
    }),
  );
  activatedMs = performance.now() - t0;

  // After activation returns: the views' providers (VS Code waits for them), the status item (the body replaces it
  // with its own), and, when a session was left running or an AWS identity is in play, loading the body and starting
  // the server.
  setImmediate(() => {
    // The views wait for their providers: VS Code holds a view shown before its provider is registered (the panel
    // resolves when it is; a tree asks for its items when its provider comes), so they are not on activation's path.
    context.subscriptions.push(
      vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, {
        resolveWebviewView: (view) => withLoaded('the panel', (l) => l.panel.resolveWebviewView(view)),
      }),
    );
    if (!loaded) {
      // The Changes view can be shown without the panel (moved elsewhere, or the Agent view collapsed): VS Code asks
      // for its items when it is shown, which loads the body, whose own tree view takes the id over.
      standIns.push(
        vscode.window.registerTreeDataProvider<never>(CHANGES_VIEW_ID, {
          getChildren: () => {
            loadSoon('the Changes view');
            return [];
          },
          getTreeItem: (n) => n,
        }),
        statusStandIn(),
      );
    }
    const c = vscode.workspace.getConfiguration('deputy');
    // An AWS identity in play: the server starts at once so the status bar shows who acts and when the sign-in ends.
    const identityInPlay = Boolean(c.get<string>('bedrock.profile')?.trim() || process.env.AWS_PROFILE || c.get<string>('endpoint') === 'bedrock');
    if (context.workspaceState.get<boolean>(SESSIONS_LEFT_RUNNING) || (identityInPlay && vscode.workspace.workspaceFolders?.length)) {
      log().info('A session was running when this window closed, or an AWS profile is in use: starting the server.');
      try {
        withLoaded('a session left running or an AWS identity', (l) => l.startServer());
      } catch {
        // Logged and shown by withLoaded.
      }
    }
  });
}

/** The status item until the body loads: Deputy is there, not started; a click opens the panel (and loads it). */
function statusStandIn(): vscode.Disposable {
  const status = vscode.window.createStatusBarItem('deputy.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Deputy';
  status.command = 'deputy.openPanel';
  status.text = '$(hubot) Deputy';
  status.tooltip = 'Deputy: not started (starts with the panel or a command)\n0 sessions running';
  status.show();
  return status;
}

/**
 * Stands in for the code lenses (`deputy.codeLens.enabled`, on by default) until the body loads: the first request
 * for lenses on a file while they are on loads it, and its providers, registered then, draw them (VS Code asks again
 * when a provider is added). The setting is read when VS Code asks, not at activation; while lenses are off it is
 * watched, so turning them on asks again.
 */
function codeLensStandIn(load: (why: string) => void): vscode.Disposable {
  const changed = new vscode.EventEmitter<void>();
  let watch: vscode.Disposable | undefined;
  const provider = vscode.languages.registerCodeLensProvider({ scheme: 'file' }, {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses: () => {
      if (vscode.workspace.getConfiguration('deputy').get<unknown>('codeLens.enabled') !== false) {
        load('the code lenses');
      } else {
        watch ??= vscode.workspace.onDidChangeConfiguration((e) => {
          if (e.affectsConfiguration('deputy.codeLens')) changed.fire();
        });
      }
      return [];
    },
  });
  return new vscode.Disposable(() => {
    watch?.dispose();
    provider.dispose();
    changed.dispose();
  });
}

export function deactivate(): void {
  // The context's subscriptions stop the server; running sessions go on at the endpoint and reattach next time.
}
