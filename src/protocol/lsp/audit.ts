/** The audit trail over the language-server pipe (src/protocol/lsp.ts): verify, report, export, a session's timeline. */
import { RequestType } from 'vscode-jsonrpc';
import type { AuditTimelineData } from '../webview.js';
import type { RequestFailure } from './failure.js';

export namespace VerifyAudit {
  export const method = 'deputy/verifyAudit' as const;
  /** Sent by the client for `deputy.verifyAudit`: checks a folder's audit chain as `deputy audit verify` does. */
  export interface Params {
    folderUri: string;
  }
  export interface Result {
    ok: boolean;
    /** What the check found, worded for a person. */
    message: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace Report {
  export const method = 'deputy/report' as const;
  /**
   * Sent by the client for `deputy.report`: writes the governance report (`deputy report --html`) of the given
   * folders' audit trails to `out`. The server reads and verifies the trails, so the extension host never does.
   */
  export interface Params {
    folderUris: string[];
    out: string;
    /** ISO 8601: only sessions that started at or after it. */
    since?: string;
  }
  export interface Result {
    ok: boolean;
    message: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace ExportAudit {
  export const method = 'deputy/exportAudit' as const;
  /** Sent by the client for `deputy.exportAudit`: writes a folder's verified trail to `out` (jsonl or OTLP/JSON). */
  export interface Params {
    folderUri: string;
    format: 'jsonl' | 'otlp';
    out: string;
  }
  export interface Result {
    ok: boolean;
    message: string;
  }
  export const type = new RequestType<Params, Result, void>(method);
}

export namespace AuditTimeline {
  export const method = 'deputy/auditTimeline' as const;
  /**
   * Sent by the client when the panel shows a session's audit timeline (and again to refresh it). The server reads the
   * session's folder trail, verifies the whole chain itself (never the extension host), and answers with that
   * session's records as timeline entries and the chain's integrity.
   */
  export interface Params {
    sessionId: string;
  }
  export type Result = AuditTimelineData | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}
