/**
 * The editor's side of the task code lenses (`deputy.codeLens.*`).
 *
 * Marker lenses and "Review N agent changes" come from the language server (src/server/code-lenses.ts), which
 * registers them once it runs. The server starts on first need, so while it is not running this module watches for
 * a reason to start it: a file open in an editor that holds a marker. That check is a substring test per document,
 * only until the server runs, and none at all with the feature off.
 *
 * The function/class lenses ("Write tests", "Explain", or `deputy.codeLens.symbolActions`) are drawn here, from the
 * language's own symbol provider (`vscode.executeDocumentSymbolProvider`). They are computed client-side on purpose:
 * the symbols exist only in the extension host, so sending them to the server just to have them sent back as lenses
 * would add two hops per refresh and the whole symbol tree to the pipe; VS Code debounces and cancels these requests
 * itself (the token is honoured here).
 */
import * as vscode from 'vscode';
import type { Deputy } from './deputy.js';
import type { SymbolActionArgs } from './dispatch.js';
import { symbolKindName } from './dispatch.js';
import { readCodeLensSettings, readSymbolActions } from './settings.js';

export const SYMBOL_ACTION_COMMAND = 'deputy.symbolAction';
const SYMBOL_KINDS = new Set([vscode.SymbolKind.Function, vscode.SymbolKind.Method, vscode.SymbolKind.Class, vscode.SymbolKind.Constructor, vscode.SymbolKind.Interface, vscode.SymbolKind.Struct]);
/** How long typing must pause before an unstarted server is considered for a document that changed. */
const CHANGE_CHECK_MS = 400;

export class CodeLensFeature implements vscode.Disposable {
  private active: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();

  constructor(private readonly deputy: Deputy) {
    this.apply();
  }

  /** Called when `deputy.codeLens.*` changes. */
  apply(): void {
    this.stop();
    const settings = readCodeLensSettings();
    if (!settings.enabled) return;
    if (readSymbolActions().length > 0) {
      this.active.push(vscode.languages.registerCodeLensProvider({ scheme: 'file' }, { provideCodeLenses: (doc, token) => this.symbolLenses(doc, token), onDidChangeCodeLenses: this.changed.event }));
    }
    this.changed.fire();
    this.watchForMarkers(settings.markers);
  }

  dispose(): void {
    this.stop();
    this.changed.dispose();
  }

  private stop(): void {
    for (const d of this.active) d.dispose();
    this.active = [];
  }

  private async symbolLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const actions = readSymbolActions();
    const symbols = await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined>('vscode.executeDocumentSymbolProvider', doc.uri);
    if (token.isCancellationRequested || !symbols) return [];
    const lenses: vscode.CodeLens[] = [];
    const visit = (s: vscode.DocumentSymbol | vscode.SymbolInformation) => {
      const range = 'selectionRange' in s ? s.selectionRange : s.location.range;
      if (SYMBOL_KINDS.has(s.kind)) {
        for (const a of actions) {
          const args: SymbolActionArgs = { uri: doc.uri.toString(), line: range.start.line, character: range.start.character, name: s.name, kind: symbolKindName(s.kind), prompt: a.prompt };
          lenses.push(new vscode.CodeLens(range, { title: a.title, command: SYMBOL_ACTION_COMMAND, arguments: [args] }));
        }
      }
      if ('children' in s) for (const c of s.children) visit(c);
    };
    for (const s of symbols) visit(s);
    return lenses;
  }

  /** Starts the server (which then serves the marker lenses) once a file shown in an editor holds a marker. */
  private watchForMarkers(markers: readonly string[]): void {
    if (markers.length === 0) return;
    const watch: vscode.Disposable[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      for (const d of watch) d.dispose();
      watch.length = 0;
    };
    const consider = (doc: vscode.TextDocument) => {
      if (this.deputy.server.running) return done();
      if (doc.uri.scheme !== 'file' || !vscode.workspace.getWorkspaceFolder(doc.uri)) return;
      const text = doc.getText();
      if (!markers.some((m) => text.includes(m))) return;
      done();
      this.deputy.log.info(`${vscode.workspace.asRelativePath(doc.uri)} holds a task marker: starting the server for the code lenses.`);
      void this.deputy.client().catch((err: unknown) => this.deputy.log.error(`Starting the server for the code lenses failed: ${String(err)}`));
    };
    watch.push(
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => consider(e.document))),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!vscode.window.visibleTextEditors.some((v) => v.document === e.document)) return;
        clearTimeout(timer);
        timer = setTimeout(() => consider(e.document), CHANGE_CHECK_MS);
      }),
    );
    this.active.push({ dispose: done });
    for (const e of vscode.window.visibleTextEditors) consider(e.document);
  }
}
