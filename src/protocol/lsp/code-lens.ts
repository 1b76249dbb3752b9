/**
 * The task code lenses use the standard `textDocument/codeLens` request. The server registers it, and the document
 * sync it needs, dynamically (`client/registerCapability`) only while `deputy.codeLens.enabled` is on, so with the
 * feature off no document crosses the pipe. Each lens runs one of these client commands with the arguments below.
 */
export namespace TaskLens {
  /** "Dispatch to agent": the marker's text is the task; the client attaches the enclosing symbol and the file. */
  export const dispatch = 'deputy.dispatchMarker' as const;
  /** "Dispatch with options…": the same, after quick picks for endpoint, model and budget. */
  export const dispatchWithOptions = 'deputy.dispatchMarkerWithOptions' as const;
  /** "Review N agent changes": opens the session whose changeset touches this file. */
  export const review = 'deputy.reviewChanges' as const;
  export interface DispatchArgs {
    uri: string;
    /** 0-based lines of the marker and of the last line its text continues on. */
    line: number;
    endLine: number;
    marker: string;
    task: string;
  }
  export interface ReviewArgs {
    sessionId: string;
  }
}
