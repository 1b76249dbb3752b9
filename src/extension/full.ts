/**
 * The body of Deputy's extension, bundled on its own (dist/extension-full.js) and loaded by the entry (main.ts) the
 * first time something needs it: a command, the panel, the chat, a code lens, a proposed-change document, or a
 * session left running here. It is a thin client of Deputy's language server (src/server), which hosts the engine;
 * loading it starts no server: the server starts when the panel opens or a command needs it.
 */
import * as vscode from 'vscode';
import { chatHandler } from './chat.js';
import { CodeLensFeature } from './code-lens.js';
import { registerCommands } from './commands.js';
import { Deputy } from './deputy.js';
import { notifyHiddenPrompts } from './hidden-prompts.js';
import { PanelProvider } from './panel.js';
import { registerChangesTree } from './review/changes-tree.js';
import { registerHunkLenses } from './review/hunk-lens.js';
import { affectsDeputy } from './settings.js';
import { createIdentityItem } from './identity-status.js';
import { createStatusItem } from './status.js';

/** What the entry hands requests to once this is loaded. */
export interface Loaded {
  deputy: Deputy;
  panel: PanelProvider;
  chat: vscode.ChatRequestHandler;
  content: vscode.TextDocumentContentProvider;
  /** Starts the server now (a session left running, an AWS identity whose status the bar shows). */
  startServer(): void;
}

export function load(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Loaded {
  const deputy = new Deputy(context, log);
  const panel = new PanelProvider(deputy);
  const lenses = new CodeLensFeature(deputy);
  context.subscriptions.push(
    lenses,
    deputy,
    panel,
    registerHunkLenses(deputy),
    registerChangesTree(deputy),
    ...registerCommands(deputy, panel),
    createStatusItem(deputy),
    createIdentityItem(deputy),
    notifyHiddenPrompts(deputy, panel),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!affectsDeputy(e)) return;
      deputy.configure();
      if (e.affectsConfiguration('deputy.codeLens')) lenses.apply();
      panel.postSettings();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => deputy.configure()),
  );
  return {
    deputy,
    panel,
    chat: chatHandler(deputy),
    content: deputy.review.content,
    startServer: () => void deputy.client().catch((err: unknown) => log.error(`Starting the server failed: ${String(err)}`)),
  };
}
