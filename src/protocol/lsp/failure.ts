/** How a request of src/protocol/lsp.ts is refused: one shape for every request that can fail for a person. */
import type { ErrorAction, ErrorKind } from '../events.js';

/** A refused request: worded for a person, with the one action that helps. Never raw SDK text, never a secret. */
export interface RequestFailure {
  failure: { kind: ErrorKind; message: string; action?: ErrorAction };
}

export function isFailure(value: object): value is RequestFailure {
  return 'failure' in value;
}
