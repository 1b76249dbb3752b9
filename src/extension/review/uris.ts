/**
 * The read-only documents of a review live under their own scheme, one URI per side of one proposed file: which
 * session, changeset and file (its binding), and which text. The path is the file's, so the editor shows its name and
 * picks its language from it.
 */
import * as vscode from 'vscode';
import { PROPOSED_SCHEME } from '../manifest-ids.js';

export { PROPOSED_SCHEME };

/** `proposed`: the agent's version; `base`: the file as the agent read it (empty for a create). */
export type ProposedSide = 'proposed' | 'base';

export interface ProposedRef {
  sessionId: string;
  changesetId: string;
  binding: string;
  path: string;
  side: ProposedSide;
}

export function proposedUri(ref: ProposedRef): vscode.Uri {
  const query = new URLSearchParams({ session: ref.sessionId, changeset: ref.changesetId, binding: ref.binding, side: ref.side }).toString();
  return vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: `/${ref.path}`, query });
}

/** The reference a URI of this scheme names, or undefined for any other URI. */
export function parseProposedUri(uri: vscode.Uri | undefined): ProposedRef | undefined {
  if (!uri || uri.scheme !== PROPOSED_SCHEME) return undefined;
  const q = new URLSearchParams(uri.query);
  const sessionId = q.get('session');
  const changesetId = q.get('changeset');
  const binding = q.get('binding');
  const side = q.get('side');
  if (!sessionId || !changesetId || !binding || (side !== 'proposed' && side !== 'base')) return undefined;
  return { sessionId, changesetId, binding, path: uri.path.replace(/^\//, ''), side };
}
