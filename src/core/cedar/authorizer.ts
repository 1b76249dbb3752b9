/**
 * Deputy's outcomes over Cedar's allow/deny: every policy that matches a request counts, and
 * - a satisfied `forbid` denies (and a `forbid` Cedar could not evaluate denies too: a broken guard fails closed);
 * - else a satisfied grant (the person's earlier yes) allows, unless the org locked grants there (then it asks);
 * - else a satisfied `permit` with `@decision("ask")` asks — as does a workspace permit where the org locked the
 *   workspace;
 * - else a satisfied `permit` allows;
 * - else nothing matched, and the call asks.
 * Policies of log-only sets are evaluated alongside: the verdict's `trial` says what the decision would have been
 * with them enforced, for the audit trail.
 */
import { createHash } from 'node:crypto';
import type { Decision } from '../policy.js';
import { cedar } from './wasm.js';
import type { CedarPolicy, CedarPolicySet, LockTarget } from './policy-set.js';
import { contextOf, entitiesOf, resourceOf, type CedarRequest, type GlobFacts, type Principal } from './request.js';
import { NAMESPACE } from './schema.js';

export interface CedarOutcome {
  decision: Decision;
  /** Ids of the policies that made the decision (empty when nothing matched). */
  policies: string[];
  /** `<id>: <reason>` of the first deciding policy, or why nothing decided. */
  reason: string;
  /** Whether any policy matched (a decision by default otherwise). */
  matched: boolean;
  /** An allowing permit granted the network (`@network("allow")`). */
  network: boolean;
}

export interface CedarVerdict extends CedarOutcome {
  /** Every policy whose condition held, deciding or not, for `deputy policy explain`. */
  satisfied: string[];
  /** Policies Cedar could not evaluate, with the error. */
  errors: { policy: string; message: string }[];
  /** The locks that held (org `@lock` policies). */
  locks: string[];
  /** With the log-only sets enforced too; present only when there are log-only sets. */
  trial?: CedarOutcome;
}

export class CedarAuthorizer {
  private readonly byId = new Map<string, CedarPolicy>();
  private readonly order = new Map<string, number>();
  private readonly permitSetId: string | null;
  private readonly forbidSetId: string | null;
  private readonly hasLogOnly: boolean;

  constructor(
    readonly sets: readonly CedarPolicySet[],
    private readonly globFacts: GlobFacts,
  ) {
    const permits: Record<string, string> = {};
    const forbids: Record<string, string> = {};
    for (const set of sets) {
      for (const policy of set.policies) {
        this.order.set(policy.id, this.byId.size);
        this.byId.set(policy.id, policy);
        (policy.effect === 'forbid' ? forbids : permits)[policy.id] = policy.text;
      }
    }
    this.hasLogOnly = sets.some((s) => s.logOnly);
    this.permitSetId = preparse(permits);
    this.forbidSetId = preparse(forbids);
  }

  decide(req: CedarRequest, principal: Principal): CedarVerdict {
    const call = {
      principal: { type: `${NAMESPACE}::Person`, id: principal.arn },
      action: { type: `${NAMESPACE}::Action`, id: req.tool },
      resource: resourceOf(req),
      context: contextOf(req, this.globFacts),
      entities: entitiesOf(req, principal),
    };
    const satisfied = new Set<string>();
    const errors: { policy: string; message: string }[] = [];
    for (const setId of [this.permitSetId, this.forbidSetId]) {
      if (setId === null) continue;
      const answer = cedar.statefulIsAuthorized({ ...call, preparsedPolicySetId: setId });
      if (answer.type === 'failure') {
        // The request itself could not be evaluated: fail closed, naming Cedar's error.
        const message = answer.errors.map((e) => e.message).join('; ');
        return { decision: 'deny', policies: [], reason: `the policy engine could not evaluate this request: ${message}`, matched: true, network: false, satisfied: [], errors: [{ policy: '', message }], locks: [] };
      }
      for (const id of answer.response.diagnostics.reason) satisfied.add(id);
      for (const e of answer.response.diagnostics.errors) errors.push({ policy: e.policyId, message: e.error.message });
    }
    const sorted = [...satisfied].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    const failedForbids = errors.filter((e) => this.byId.get(e.policy)?.effect === 'forbid').map((e) => e.policy);
    const pick = (withLogOnly: boolean): CedarOutcome => this.outcome(req.tool, sorted, failedForbids, withLogOnly);
    const verdict: CedarVerdict = {
      ...pick(false),
      satisfied: sorted,
      errors,
      locks: sorted.filter((id) => (this.byId.get(id)?.lock.length ?? 0) > 0 && !this.byId.get(id)!.logOnly),
    };
    if (this.hasLogOnly) verdict.trial = pick(true);
    return verdict;
  }

  private outcome(tool: string, satisfied: readonly string[], failedForbids: readonly string[], withLogOnly: boolean): CedarOutcome {
    const live = (id: string): CedarPolicy | undefined => {
      const p = this.byId.get(id);
      return p && (withLogOnly || !p.logOnly) ? p : undefined;
    };
    const locked = new Set<LockTarget>();
    for (const id of satisfied) for (const target of live(id)?.lock ?? []) locked.add(target);
    const forbids = satisfied.filter((id) => live(id)?.effect === 'forbid');
    const broken = failedForbids.filter((id) => live(id) !== undefined);
    if (forbids.length > 0 || broken.length > 0) {
      const first = forbids[0];
      const reason = first ? this.reasonOf(first) : `${broken[0]}: this forbid could not be evaluated, so it denies`;
      return { decision: 'deny', policies: [...forbids, ...broken], reason, matched: true, network: false };
    }
    const permits = satisfied.map(live).filter((p): p is CedarPolicy => p !== undefined && p.effect === 'permit' && p.lock.length === 0);
    const asks = (p: CedarPolicy): boolean =>
      p.ask || (p.source === 'workspace' && locked.has('workspace')) || (p.source === 'grant' && locked.has('grants'));
    const grants = permits.filter((p) => p.source === 'grant' && !asks(p));
    const asking = permits.filter(asks);
    const allowing = permits.filter((p) => !asks(p));
    const chosen = grants.length > 0 ? grants : asking.length > 0 ? asking : allowing;
    if (chosen.length === 0) return { decision: 'ask', policies: [], reason: `default: ${tool} needs your yes`, matched: false, network: false };
    const decision: Decision = chosen === asking ? 'ask' : 'allow';
    const first = chosen[0]!;
    let reason = this.reasonOf(first.id);
    if (decision === 'ask' && !first.ask) reason += ` (the organisation's policy locks ${first.source === 'grant' ? 'grants' : 'the workspace'} here, so it asks)`;
    return { decision, policies: chosen.map((p) => p.id), reason, matched: true, network: decision === 'allow' && chosen.some((p) => p.network) };
  }

  private reasonOf(id: string): string {
    const p = this.byId.get(id);
    if (!p) return id;
    return `${id}: ${p.reason ?? (p.effect === 'forbid' ? 'forbid' : p.ask ? 'permit, asking' : 'permit')}`;
  }
}

/**
 * Parses a policy set into the WASM module once, under a name derived from its content: the same policies
 * loaded again (a task per policy file read) reuse the parsed set instead of growing the module's table.
 */
function preparse(policies: Record<string, string>): string | null {
  const ids = Object.keys(policies);
  if (ids.length === 0) return null;
  const hash = createHash('sha256');
  for (const id of ids) hash.update(`${id}\0${policies[id]}\0`);
  const name = hash.digest('hex');
  if (!PREPARSED.has(name)) {
    const answer = cedar.preparsePolicySet(name, { staticPolicies: policies });
    if (answer.type === 'failure') throw new Error(`Cedar could not load the policies: ${answer.errors.map((e) => e.message).join('; ')}`);
    PREPARSED.add(name);
  }
  return name;
}
/** Names of the policy sets already parsed into the WASM module (which keeps them for the process's life). */
const PREPARSED = new Set<string>();
