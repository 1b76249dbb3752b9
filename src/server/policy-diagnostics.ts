/**
 * Diagnostics on Cedar policy files open in the editor: every edit of a `.cedar` document is parsed and validated
 * against Deputy's schema (`src/core/cedar`), and the problems are published with LSP's standard
 * `textDocument/publishDiagnostics`, so the editor underlines them as it does a compiler's. Documents are synced
 * whole (they are small), so no text-document library is needed.
 */
import { fileURLToPath } from 'node:url';
import { sep } from 'node:path';
import { DiagnosticSeverity, TextDocumentSyncKind, type Connection, type Diagnostic } from 'vscode-languageserver/node';
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

export function wirePolicyDiagnostics(c: Connection): void {
  const publish = (uri: string, text: string): void => {
    if (!uri.endsWith('.cedar')) return;
    void c.sendDiagnostics({ uri, diagnostics: diagnosePolicyText(uri, text) });
  };
  c.onDidOpenTextDocument((p) => publish(p.textDocument.uri, p.textDocument.text));
  c.onDidChangeTextDocument((p) => {
    // Full sync: the last change holds the whole text.
    const last = p.contentChanges[p.contentChanges.length - 1];
    if (last) publish(p.textDocument.uri, last.text);
  });
  c.onDidCloseTextDocument((p) => {
    if (p.textDocument.uri.endsWith('.cedar')) void c.sendDiagnostics({ uri: p.textDocument.uri, diagnostics: [] });
  });
}
