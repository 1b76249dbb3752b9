/**
 * The task code lenses, served with the standard `textDocument/codeLens` request (see `TaskLens` in
 * src/protocol/lsp.ts): "Dispatch to agent" and "Dispatch with options…" on each comment marker, and "Review N agent
 * changes" on a file with proposed changes waiting for a verdict.
 *
 * Cost: with `deputy.codeLens.enabled` off, the server registers neither the lens request nor document sync, so the
 * editor sends no document at all. On, documents arrive as incremental changes (a keystroke is a few bytes), and the
 * marker scan runs only when VS Code asks for lenses (it debounces and cancels those requests itself) and once per
 * document version: a repeated request is a cache hit. All of it runs in this process, never in the editor's.
 */
import {
  CodeLensRequest,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  TextDocumentSyncKind,
  type CancellationToken,
  type CodeLens,
  type Connection,
  type Disposable,
  type DocumentSelector,
} from 'vscode-languageserver/node';
import { CodeLensRefreshRequest } from 'vscode-languageserver-protocol';
import type { TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { findTaskMarkers, type TaskMarker } from '../core/task-markers.js';
import { TaskLens, type CodeLensSettings } from '../protocol/lsp.js';

/** Files on disk only: an untitled buffer belongs to no workspace folder, so a task from it would have no home. */
const SELECTOR: DocumentSelector = [{ scheme: 'file' }];

export interface CodeLensDeps {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  /** Proposed files waiting for a verdict, by absolute path. */
  unreviewed(): Map<string, { count: number; sessionId: string }>;
  log(line: string): void;
}

/** Lenses for one document: pure, so the benchmark and the tests run exactly what the server runs. */
export function lensesFor(
  doc: { uri: string; languageId: string; getText(): string },
  markers: readonly string[],
  unreviewed: { count: number; sessionId: string } | undefined,
  found: TaskMarker[] = findTaskMarkers(doc.getText(), { languageId: doc.languageId, markers }),
): CodeLens[] {
  const lenses: CodeLens[] = [];
  if (unreviewed) {
    const args: TaskLens.ReviewArgs = { sessionId: unreviewed.sessionId };
    const n = unreviewed.count;
    lenses.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      command: { title: `Review ${n} agent change${n === 1 ? '' : 's'}`, command: TaskLens.review, arguments: [args] },
    });
  }
  for (const m of found) {
    const range = { start: { line: m.line, character: m.start }, end: { line: m.line, character: m.end } };
    const args: TaskLens.DispatchArgs = { uri: doc.uri, line: m.line, endLine: m.endLine, marker: m.marker, task: m.task };
    lenses.push({ range, command: { title: 'Dispatch to agent', command: TaskLens.dispatch, arguments: [args] } });
    lenses.push({ range, command: { title: 'Dispatch with options…', command: TaskLens.dispatchWithOptions, arguments: [args] } });
  }
  return lenses;
}

export class CodeLensService {
  private settings: CodeLensSettings = { enabled: false, markers: [] };
  private registrations: Disposable[] = [];
  /** Serialises (un)registration: settings can change again before the client has answered. */
  private queue: Promise<void> = Promise.resolve();
  private readonly cache = new Map<string, { version: number; markersKey: string; found: TaskMarker[] }>();

  constructor(private readonly deps: CodeLensDeps) {
    deps.connection.onCodeLens((p, token) => this.provide(p.textDocument.uri, token));
    deps.documents.onDidClose((e) => this.cache.delete(e.document.uri));
  }

  /** Applies `deputy.codeLens.*`: registers the lens request and document sync when on, withdraws them when off. */
  configure(next: CodeLensSettings | undefined): void {
    const settings = next ?? { enabled: false, markers: [] };
    const was = this.settings;
    this.settings = settings;
    if (was.enabled === settings.enabled) {
      if (settings.enabled && was.markers.join('\n') !== settings.markers.join('\n')) this.refresh();
      return;
    }
    this.queue = this.queue
      .then(() => (settings.enabled ? this.register() : this.unregister()))
      .then(() => this.deps.log(`code lenses ${settings.enabled ? 'on' : 'off'}`))
      .catch((err: unknown) => this.deps.log(`code lenses: ${String(err)}`));
  }

  /** Asks the editor to ask again (a changeset opened or was decided, markers changed). */
  refresh(): void {
    if (!this.settings.enabled || this.registrations.length === 0) return;
    void this.deps.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  }

  provide(uri: string, token?: CancellationToken): CodeLens[] | null {
    if (!this.settings.enabled) return null;
    const doc = this.deps.documents.get(uri);
    if (!doc || token?.isCancellationRequested) return null;
    const markersKey = this.settings.markers.join('\n');
    let entry = this.cache.get(uri);
    if (!entry || entry.version !== doc.version || entry.markersKey !== markersKey) {
      entry = { version: doc.version, markersKey, found: findTaskMarkers(doc.getText(), { languageId: doc.languageId, markers: this.settings.markers }) };
      this.cache.set(uri, entry);
    }
    let path: string | undefined;
    try {
      path = uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
    } catch {
      path = undefined;
    }
    return lensesFor(doc, this.settings.markers, path ? this.deps.unreviewed().get(path) : undefined, entry.found);
  }

  private async register(): Promise<void> {
    const c = this.deps.connection.client;
    this.registrations = await Promise.all([
      c.register(DidOpenTextDocumentNotification.type, { documentSelector: SELECTOR }),
      c.register(DidChangeTextDocumentNotification.type, { documentSelector: SELECTOR, syncKind: TextDocumentSyncKind.Incremental }),
      c.register(DidCloseTextDocumentNotification.type, { documentSelector: SELECTOR }),
      c.register(CodeLensRequest.type, { documentSelector: SELECTOR, resolveProvider: false }),
    ]);
  }

  private async unregister(): Promise<void> {
    const r = this.registrations;
    this.registrations = [];
    this.cache.clear();
    for (const d of r) d.dispose();
  }
}
