/**
 * Diagnostics on Cedar policy files open in the editor: every edit of a `.cedar` document is parsed and validated
 * against Deputy's schema (`src/core/cedar`), and the problems are published with LSP's standard
 * `textDocument/publishDiagnostics`, so the editor underlines them as it does a compiler's. The documents come from
 * the server's one document store (`main.ts`), shared with the code lenses.
 */
import { fileURLToPath } from 'node:url';
import { sep } from 'node:path';
import { DiagnosticSeverity, TextDocumentSyncKind, type Connection, type Diagnostic, type TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { parsePolicySet, type PolicySourceKind } from '../core/cedar/policy-set.js';
import type { PolicyDiagnostic } from '../core/cedar/diagnostics.js';

export const POLICY_SYNC = TextDocumentSyncKind.Full;

/** A workspace's `.deputy/policy.cedar` is checked as the workspace's; any other `.cedar` file as an org policy. */
function kindOf(uri: string): PolicySourceKind {
  try {
    return fileURLToPath(uri).endsWith(`${sep}.deputy${sep}policy.cedar`) ? 'workspace' : 'org';
  } catch {
    return 'org';
  }
}

export function toLspDiagnostic(d: PolicyDiagnostic): Diagnostic {
  return {
    // LSP counts from 0; ours from 1 (as `deputy policy check` prints them).
    range: { start: { line: d.line - 1, character: d.column - 1 }, end: { line: d.endLine - 1, character: d.endColumn - 1 } },
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: 'deputy policy',
    message: d.help ? `${d.message}\n${d.help}` : d.message,
  };
}

export function diagnosePolicyText(uri: string, text: string): Diagnostic[] {
  const kind = kindOf(uri);
  return parsePolicySet(text, { kind, origin: uri, idPrefix: kind }).diagnostics.map(toLspDiagnostic);
}

/**
 * Publishes diagnostics for `.cedar` documents as the server's one document store sees them open, change and close
 * (the connection has one handler per document notification: the store owns them, the code lenses read it too).
 */
export function wirePolicyDiagnostics(c: Connection, documents: TextDocuments<TextDocument>): void {
  const publish = (doc: TextDocument): void => {
    if (!doc.uri.endsWith('.cedar')) return;
    void c.sendDiagnostics({ uri: doc.uri, diagnostics: diagnosePolicyText(doc.uri, doc.getText()) });
  };
  // The store reports an opened document as changed content too: one publish per open or edit.
  documents.onDidChangeContent((e) => publish(e.document));
  documents.onDidClose((e) => {
    if (e.document.uri.endsWith('.cedar')) void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
}
