/** A person raising a budget over the language-server pipe (src/protocol/lsp.ts). */
import { RequestType } from 'vscode-jsonrpc';
import type { BudgetAmount, BudgetMeterView, BudgetScope } from '../events.js';
import type { RequestFailure } from './failure.js';

export namespace RaiseBudget {
  export const method = 'deputy/raiseBudget' as const;
  /**
   * Sent by the client when a person sets a new budget for a session's task or for today (the panel's "Raise
   * budget", the `deputy.raiseBudget` command, "Dispatch with options…" never: that sets a budget at the start).
   * Only a person's gesture sends it; the server records it on the audit trail with the person as actor, lifts the
   * stop when the new limit is above what was spent, and raises the endpoint's `spend_control` with it.
   */
  export interface Params {
    sessionId: string;
    scope: BudgetScope;
    to: BudgetAmount;
  }
  export type Result = { meters: BudgetMeterView[] } | RequestFailure;
  export const type = new RequestType<Params, Result, void>(method);
}
