/**
 * A Cedar policy file as Deputy uses it: its policies with their ids and Deputy's annotations, and every problem
 * with it as a diagnostic (syntax, schema, Deputy's annotations).
 *
 * Deputy's annotations:
 * - `@id("name")` names the policy in decisions as `<source>:<name>` (else `<source>:policy<N>`, N from 0).
 * - `@decision("ask")` on a `permit`: it asks instead of allowing.
 * - `@reason("…")` says why, in prompts and audit records.
 * - `@network("allow")` on a `permit` of `run_command`: a command it allows may use the network.
 * - `@lock("workspace")`, `@lock("grants")`, `@lock("workspace,grants")` (org policy only): not a decision but a
 *   fence — where the lock's condition holds, the workspace's (or the grants') permits only ask.
 * A line `// deputy: log-only` makes the whole file a trial: its decisions are computed and audited, not enforced.
 */
import { cedar } from './wasm.js';
import { deputySchema, mcpActionsIn } from './schema.js';
import { fromCedarError, type PolicyDiagnostic } from './diagnostics.js';

export type PolicySourceKind = 'org' | 'workspace' | 'grant' | 'builtin';
export type LockTarget = 'workspace' | 'grants';

export interface CedarPolicy {
  /** Unique across the sets a decision combines: `org:no-env`, `workspace:policy0`, `policy.json rule 2`. */
  id: string;
  effect: 'permit' | 'forbid';
  ask: boolean;
  reason?: string;
  network: boolean;
  /** Non-empty for a lock policy, which takes no part in decisions. */
  lock: LockTarget[];
  text: string;
  source: PolicySourceKind;
  logOnly: boolean;
}

export interface CedarPolicySet {
  kind: PolicySourceKind;
  /** Where it came from, for messages: a file path, "grants", … */
  origin: string;
  policies: CedarPolicy[];
  logOnly: boolean;
}

export interface ParseOptions {
  kind: PolicySourceKind;
  origin: string;
  /** Prefix of the policies' ids (`org`, `workspace`, `grant`); none for compiled shorthand, whose ids are labels. */
  idPrefix?: string;
}

const LOG_ONLY = /^\s*\/\/\s*deputy:\s*log-only\s*$/m;
const LOCK_TARGETS: readonly LockTarget[] = ['workspace', 'grants'];

/** Parses and validates `text`; the set is null when any diagnostic is an error (a broken file is not half-used). */
export function parsePolicySet(text: string, options: ParseOptions): { set: CedarPolicySet | null; diagnostics: PolicyDiagnostic[] } {
  const diagnostics: PolicyDiagnostic[] = [];
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    return { set: null, diagnostics: parts.errors.map((e) => fromCedarError(text, e, 'error')) };
  }
  if (parts.policy_templates.length > 0) {
    diagnostics.push({ ...fromCedarError(text, { message: 'templates are not used by Deputy; write a static policy', help: null, code: null, url: null, severity: null }, 'error') });
  }
  const validation = cedar.validate({ schema: deputySchema(mcpActionsIn(text)), policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') {
    diagnostics.push(...validation.errors.map((e) => fromCedarError(text, e, 'error')));
  } else {
    const seen = new Set<string>();
    for (const v of validation.validationErrors) {
      const d = fromCedarError(text, v.error, 'error', v.policyId);
      // The same mistake is reported once per action it applies to; once is enough.
      const key = `${d.line}:${d.column}:${d.message.replace(/Deputy::Action::"[^"]*"/g, '')}`;
      if (!seen.has(key)) diagnostics.push(d);
      seen.add(key);
    }
    for (const v of validation.validationWarnings) diagnostics.push(fromCedarError(text, v.error, 'warning', v.policyId));
  }

  const logOnly = LOG_ONLY.test(text);
  const policies: CedarPolicy[] = [];
  const ids = new Set<string>();
  let from = 0;
  for (const [index, part] of parts.policies.entries()) {
    const at = text.indexOf(part, from);
    const offset = at >= 0 ? at : 0;
    if (at >= 0) from = at + part.length;
    const problem = (message: string): void => {
      diagnostics.push(fromCedarError(text, { message, help: null, code: null, url: null, severity: null, sourceLocations: [{ label: null, start: Buffer.byteLength(text.slice(0, offset)), end: Buffer.byteLength(text.slice(0, offset + part.length)) }] }, 'error'));
    };
    const json = cedar.policyToJson(part);
    if (json.type === 'failure') continue; // reported by the parse above
    const notes = json.json.annotations ?? {};
    const raw = notes.id ?? `policy${index}`;
    const id = options.idPrefix ? `${options.idPrefix}:${raw}` : raw;
    if (ids.has(id)) problem(`two policies have the id "${raw}"; decisions name policies by id, so each must be unique`);
    ids.add(id);
    const effect = json.json.effect;
    const decision = notes.decision;
    if (decision !== undefined && decision !== 'ask' && decision !== 'allow') problem(`@decision must be "ask" (or "allow", the same as none), not "${decision}"`);
    if (decision === 'ask' && effect === 'forbid') problem('@decision("ask") belongs on a permit; a forbid always denies');
    const network = notes.network;
    if (network !== undefined && (network !== 'allow' || effect !== 'permit')) problem('@network("allow") is the only network annotation, and only on a permit');
    const lock: LockTarget[] = [];
    if (notes.lock !== undefined) {
      for (const target of notes.lock.split(',').map((t) => t.trim())) {
        if (LOCK_TARGETS.includes(target as LockTarget)) lock.push(target as LockTarget);
        else problem(`@lock takes "workspace", "grants" or both separated by a comma, not "${target}"`);
      }
      if (options.kind !== 'org') problem('@lock is for the organisation\'s policy; here it would fence nothing');
      if (effect !== 'permit') problem('a @lock policy is written as a permit whose condition says where the lock applies');
    }
    const policy: CedarPolicy = { id, effect, ask: decision === 'ask', network: network === 'allow', lock, text: part, source: options.kind, logOnly };
    if (notes.reason !== undefined) policy.reason = notes.reason;
    policies.push(policy);
  }
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { set: failed ? null : { kind: options.kind, origin: options.origin, policies, logOnly }, diagnostics };
}
