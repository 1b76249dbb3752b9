/**
 * Cedar's errors as a person reads them: message, line and column (1-based) in the file, and help. The same
 * shape serves `deputy policy check` and the language server (which converts to LSP's 0-based positions).
 */
import type { DetailedError } from './wasm.js';

export interface PolicyDiagnostic {
  severity: 'error' | 'warning';
  message: string;
  /** 1-based line and column of the start, and of the end (exclusive), in the file's text. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  help?: string;
  /** The policy the problem is in, when Cedar names one. */
  policyId?: string;
}

/** Line and column (1-based) of a character offset; Cedar counts offsets in bytes of UTF-8. */
export function positionAt(text: string, byteOffset: number): { line: number; column: number } {
  const bytes = Buffer.from(text, 'utf8');
  const before = bytes.subarray(0, Math.max(0, Math.min(byteOffset, bytes.length))).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

export function fromCedarError(text: string, error: DetailedError, severity: 'error' | 'warning', policyId?: string): PolicyDiagnostic {
  const where = error.sourceLocations?.[0];
  const start = positionAt(text, where?.start ?? 0);
  const end = positionAt(text, where?.end ?? where?.start ?? 0);
  const label = where?.label ? ` (${where.label})` : '';
  const diagnostic: PolicyDiagnostic = {
    severity,
    message: `${error.message}${label}`,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
  };
  if (error.help) diagnostic.help = error.help;
  if (policyId) diagnostic.policyId = policyId;
  return diagnostic;
}

/** `file:line:column: error: message (help)`, the shape compilers print and editors link. */
export function formatDiagnostic(file: string, d: PolicyDiagnostic): string {
  return `${file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${d.help ? ` — ${d.help}` : ''}`;
}
