/**
 * Deputy's VS Code extension: a thin client of Deputy's language server (src/server), which hosts the engine.
 * Activation registers the panel, the commands, the chat participant and the status item, and starts nothing else:
 * the server starts when the panel opens or a command needs it, or at once when a session was left running here.
 */
import * as vscode from 'vscode';
import { registerChat } from './chat.js';
import { CodeLensFeature } from './code-lens.js';
import { registerCommands } from './commands.js';
import { Deputy, SESSIONS_LEFT_RUNNING } from './deputy.js';
import { notifyHiddenPrompts } from './hidden-prompts.js';
import { PANEL_VIEW_ID, PanelProvider } from './panel.js';
import { registerChangesTree } from './review/changes-tree.js';
import { registerHunkLenses } from './review/hunk-lens.js';
import { PROPOSED_SCHEME } from './review/uris.js';
import { affectsDeputy, readSettings } from './settings.js';
import { createIdentityItem } from './identity-status.js';
import { createStatusItem } from './status.js';

export function activate(context: vscode.ExtensionContext): void {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Deputy', { log: true });
  context.subscriptions.push(log);
  try {
    const deputy = new Deputy(context, log);
    const panel = new PanelProvider(deputy);
    const lenses = new CodeLensFeature(deputy);
    context.subscriptions.push(
      lenses,
      deputy,
      panel,
      vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, panel),
      vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, deputy.review.content),
      registerHunkLenses(deputy),
      registerChangesTree(deputy),
      ...registerCommands(deputy, panel),
      createStatusItem(deputy),
      createIdentityItem(deputy),
      notifyHiddenPrompts(deputy, panel),
      registerChat(deputy),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!affectsDeputy(e)) return;
        deputy.configure();
        if (e.affectsConfiguration('deputy.codeLens')) lenses.apply();
        panel.postSettings();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => deputy.configure()),
    );
    const settings = readSettings();
    // An AWS identity in play: the server starts at once so the status bar shows who acts and when the sign-in ends.
    const identityInPlay = Boolean(settings.bedrockProfile || process.env.AWS_PROFILE || settings.endpoint === 'bedrock');
    if (context.workspaceState.get<boolean>(SESSIONS_LEFT_RUNNING) || (identityInPlay && vscode.workspace.workspaceFolders?.length)) {
      log.info('A session was running when this window closed, or an AWS profile is in use: starting the server.');
      // After activation returns: loading the language client and spawning the server is not activation's cost.
      setImmediate(() => void deputy.client().catch((err: unknown) => log.error(`Starting the server failed: ${String(err)}`)));
    }
    log.info(`Deputy activated in ${(performance.now() - t0).toFixed(1)} ms`);
  } catch (err) {
    // Shown, not swallowed: without this the panel would just stay empty.
    log.error(`Activation failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    void vscode.window.showErrorMessage(`Deputy could not start: ${err instanceof Error ? err.message : String(err)}`, 'Show Log').then((p) => (p ? log.show() : undefined));
  }
}

export function deactivate(): void {
  // The context's subscriptions stop the server; running sessions go on at the endpoint and reattach next time.
}
