/**
 * Grants: a person's "yes, and from now on" to a permission prompt, kept as Cedar so anyone can read exactly
 * what was granted. Scopes:
 * - `once`: this request only; never stored (the answer itself is the approval).
 * - `task`: the same tool on the same path or command line, for the rest of this task (the policy tests the task
 *   id, so a stored task grant is inert after the task).
 * - `workspace`: the same tool on the same path or command line in this workspace, until revoked.
 * Stored in `<workspace>/.deputy/grants.cedar` (the person's, not committed: `.deputy/.gitignore` keeps only the
 * audit trail and policy), listed and revoked with `deputy policy grants`. A grant allows only what the
 * organisation and workspace do not forbid, and the org can make grants only ask (`@lock("grants")`).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ensureStateDir, openStateFile, readStateFile } from './state-dir.js';
import { parsePolicySet, type CedarPolicySet } from './cedar/policy-set.js';
import { actionRef, cedarString } from './cedar/shorthand.js';
import { NAMESPACE } from './cedar/schema.js';
import { cedar } from './cedar/wasm.js';
import type { Principal } from './cedar/request.js';

export type GrantScope = 'once' | 'task' | 'workspace';
export const GRANT_SCOPES: readonly GrantScope[] = ['once', 'task', 'workspace'];

export interface GrantRequest {
  scope: GrantScope;
  tool: string;
  /** The path (workspace-relative) or the command line the person said yes to. */
  path?: string;
  command?: string;
  taskId: string;
  principal: Principal;
  /** ISO time of the gesture. */
  at: string;
}

export interface Grant {
  id: string;
  scope: GrantScope;
  /** The grant, as the Cedar policy it is. */
  cedar: string;
}

/** The Cedar text of a grant. */
export function grantCedar(id: string, g: GrantRequest): string {
  const resource =
    g.command !== undefined
      ? `resource == ${NAMESPACE}::Command::${cedarString(g.command)}`
      : `resource == ${NAMESPACE}::Path::${cedarString(g.path ?? '.')}`;
  const when = g.scope === 'workspace' ? '' : `\nwhen { context.session.taskId == ${cedarString(g.taskId)} }`;
  const scopeText = g.scope === 'workspace' ? 'this workspace' : g.scope === 'task' ? `task ${g.taskId}` : 'one request';
  return [
    `@id(${cedarString(id)})`,
    `@scope(${cedarString(g.scope)})`,
    `@granted(${cedarString(g.at)})`,
    `@reason(${cedarString(`${g.principal.user} said yes for ${scopeText}`)})`,
    `permit (principal == ${NAMESPACE}::Person::${cedarString(g.principal.arn)}, action == ${actionRef(g.tool)}, ${resource})${when};`,
    '',
  ].join('\n');
}

/**
 * Whether a policy is a grant as `grantCedar` writes it: a permit with `==` on principal, action and resource,
 * and no condition but `context.session.taskId == "<id>"`.
 */
export function isGrantShape(text: string): boolean {
  const json = cedar.policyToJson(text);
  if (json.type === 'failure') return false;
  const p = json.json;
  if (p.effect !== 'permit' || p.principal.op !== '==' || p.action.op !== '==' || p.resource.op !== '==') return false;
  if (p.conditions.length === 0) return true;
  if (p.conditions.length !== 1 || p.conditions[0]!.kind !== 'when') return false;
  const eq = (p.conditions[0]!.body as { '=='?: { left: unknown; right: unknown } })['=='];
  const attr = (e: unknown): { left: unknown; attr: string } | undefined => (e as { '.'?: { left: unknown; attr: string } } | undefined)?.['.'];
  const task = attr(eq?.left);
  const session = attr(task?.left);
  return (
    task?.attr === 'taskId' &&
    session?.attr === 'session' &&
    (session.left as { Var?: string }).Var === 'context' &&
    typeof (eq?.right as { Value?: unknown } | undefined)?.Value === 'string'
  );
}

export class GrantStore {
  readonly file: string;

  constructor(readonly root: string) {
    this.file = path.join(root, '.deputy', 'grants.cedar');
  }

  /** Records a grant; a `once` grant is returned (for the audit trail) but not stored. */
  async add(g: GrantRequest): Promise<Grant> {
    const id = `g-${randomBytes(4).toString('hex')}`;
    const text = grantCedar(id, g);
    if (g.scope !== 'once') {
      await ensureStateDir(path.dirname(this.file));
      const handle = await openStateFile(this.file, 'a');
      try {
        await handle.write(`${text}\n`);
      } finally {
        await handle.close();
      }
    }
    return { id, scope: g.scope, cedar: text };
  }

  async list(): Promise<Grant[]> {
    const text = await readStateFile(this.file);
    if (text === null || text.trim() === '') return [];
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') throw new Error(`${this.file} is not valid Cedar: ${parts.errors.map((e) => e.message).join('; ')}`);
    return parts.policies.map((part) => {
      const json = cedar.policyToJson(part);
      const notes = json.type === 'success' ? (json.json.annotations ?? {}) : {};
      return { id: notes.id ?? '', scope: (notes.scope as GrantScope | undefined) ?? 'workspace', cedar: `${part}\n` };
    });
  }

  /**
   * The stored grants as a policy set (kind `grant`); an unreadable file is an error, never "no grants". Only
   * policies of the shape Deputy writes count (one person, one action, one resource, at most a task condition):
   * the file sits in the workspace, so a grants file planted there can never be a blanket permit.
   */
  async policySet(): Promise<CedarPolicySet | null> {
    const text = await readStateFile(this.file);
    if (text === null || text.trim() === '') return null;
    const { set, diagnostics } = parsePolicySet(text, { kind: 'grant', origin: this.file, idPrefix: 'grant' });
    if (!set) throw new Error(`${this.file} has errors: ${diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('; ')}`);
    return { ...set, policies: set.policies.filter((p) => isGrantShape(p.text)) };
  }

  /** Removes a grant; false when there is none with this id. */
  async revoke(id: string): Promise<boolean> {
    const grants = await this.list();
    const kept = grants.filter((g) => g.id !== id);
    if (kept.length === grants.length) return false;
    // Rewritten beside and renamed over, so a crash leaves the old list or the new, never half of one.
    const temp = `${this.file}.${process.pid}.tmp`;
    const handle = await openStateFile(temp, 'wx');
    try {
      await handle.write(kept.map((g) => `${g.cedar}\n`).join(''));
    } finally {
      await handle.close();
    }
    await fs.rename(temp, this.file);
    return true;
  }
}
