/**
 * Deputy's VS Code extension: a thin client of Deputy's language server (src/server), which hosts the engine.
 * Activation registers the panel, the commands, the chat participant and the status item, and starts nothing else:
 * the server starts when the panel opens or a command needs it, or at once when a session was left running here.
 */
import * as vscode from 'vscode';
import { registerChat } from './chat.js';
import { registerCommands } from './commands.js';
import { Deputy, SESSIONS_LEFT_RUNNING } from './deputy.js';
import { notifyHiddenPrompts } from './hidden-prompts.js';
import { PANEL_VIEW_ID, PanelProvider } from './panel.js';
import { registerChangesTree } from './review/changes-tree.js';
import { registerHunkLenses } from './review/hunk-lens.js';
import { PROPOSED_SCHEME } from './review/uris.js';
import { affectsDeputy } from './settings.js';
import { createStatusItem } from './status.js';

export function activate(context: vscode.ExtensionContext): void {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Deputy', { log: true });
  context.subscriptions.push(log);
  try {
    const deputy = new Deputy(context, log);
    const panel = new PanelProvider(deputy);
    context.subscriptions.push(
      deputy,
      panel,
      vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, panel),
      vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, deputy.review.content),
      registerHunkLenses(deputy),
      registerChangesTree(deputy),
      ...registerCommands(deputy, panel),
      createStatusItem(deputy),
      notifyHiddenPrompts(deputy, panel),
      registerChat(deputy),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!affectsDeputy(e)) return;
        deputy.configure();
        panel.postSettings();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => deputy.configure()),
    );
    if (context.workspaceState.get<boolean>(SESSIONS_LEFT_RUNNING)) {
      log.info('A session was running when this window closed: starting the server to reattach.');
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
