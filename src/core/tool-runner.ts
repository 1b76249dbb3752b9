/**
 * Runs one client-tool call of the agent on the developer's machine: policy first, then a person when the
 * policy asks, then the tool; every step on the audit trail. `propose_changes` always goes to per-file review:
 * no policy and no flag approves a change.
 */
import { Workspace, type WalkOptions } from './workspace.js';
import { prepareChangeset, applyPreparedFile, type PreparedFile } from './changeset/index.js';
import type { Policy, PolicyVerdict } from './policy.js';
import type { GrantScope, GrantStore } from './grants.js';
import { principalOf } from './cedar/request.js';
import type { AuditActor, AuditEventType, AuditLog } from './audit.js';
import { bindingFor, type Prompter } from './prompter.js';
import type { TurnLimits } from './turn-limits.js';
import {
  TOOL_NAMES,
  type ChangeResult,
  type ProposeChangesResult,
  type ToolName,
  type WorkspaceListArgs,
  type WorkspaceReadArgs,
  type WorkspaceSearchArgs,
} from '../protocol/tools.js';

export interface ToolCall {
  session: string;
  callId: string;
  name: string;
  args: unknown;
}

export interface ToolOutcome {
  success: boolean;
  /** JSON text for the agent. */
  output?: string;
  error?: string;
  /** Files written to disk by this call (propose_changes). */
  applied: string[];
}

/** What the runner tells whoever shows progress (the terminal, the panel). */
export interface ToolObserver {
  toolStarted?(call: ToolCall, summary: string): void;
  toolFinished?(call: ToolCall, outcome: ToolOutcome): void;
  changeApplied?(result: ChangeResult): void;
  /**
   * A `propose_changes` call was prepared: every file, before any is reviewed, so a reviewer can see the whole
   * changeset at once (the panel's card). Each ready file is then asked for with `fileReviewBinding`.
   */
  changesetPrepared?(call: Pick<ToolCall, 'session' | 'callId'>, summary: string, files: PreparedFile[]): void;
}

export interface ToolRunnerDeps {
  workspace: Workspace;
  policy: Policy;
  audit: AuditLog;
  prompter: Prompter;
  actor: AuditActor;
  task: string;
  observer?: ToolObserver;
  /** The turn's caps; a permission prompt over the cap is not asked and ends the turn. */
  limits?: TurnLimits;
  /** Where a yes "for this task" or "for this workspace" is kept; without it every yes is for one request. */
  grants?: GrantStore;
}

export class ToolRunner {
  /** Per session: relative path → SHA-256 of the file when the agent last read it. */
  private readonly reads = new Map<string, Map<string, string>>();

  /** The deps' policy, plus the grants the person gave during this task. */
  private policy: Policy;

  constructor(private readonly deps: ToolRunnerDeps) {
    // Policies decide for the person this runner acts for (their ARN, or the local user), within this task.
    this.policy = deps.policy.withPrincipal(principalOf(deps.actor)).withTask({ taskId: deps.task });
  }

  /** `signal` ends a workspace walk at once (a cancelled task); the walk's result then says it was cancelled. */
  async run(call: ToolCall, signal?: AbortSignal): Promise<ToolOutcome> {
    const { observer } = this.deps;
    const summary = summarize(call.name, call.args);
    observer?.toolStarted?.(call, summary);
    await this.record('tool.call', call.session, { call_id: call.callId, tool: call.name, summary });
    let outcome: ToolOutcome;
    try {
      outcome = await this.gateAndRun(call, summary, signal);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      outcome = { success: false, error: message, applied: [] };
      await this.record('error', call.session, { call_id: call.callId, tool: call.name, message });
    }
    await this.record('tool.result', call.session, {
      call_id: call.callId,
      tool: call.name,
      success: outcome.success,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    observer?.toolFinished?.(call, outcome);
    return outcome;
  }

  private async gateAndRun(call: ToolCall, summary: string, signal: AbortSignal | undefined): Promise<ToolOutcome> {
    if (!isToolName(call.name)) {
      return fail(`Unknown tool "${call.name}". Deputy's tools are: ${TOOL_NAMES.join(', ')}.`);
    }
    if (!isObject(call.args)) return fail(`Arguments for ${call.name} must be a JSON object.`);
    const verdict = await this.verdictFor(call.name, call.args.path);
    await this.record('policy.decision', call.session, {
      call_id: call.callId,
      tool: call.name,
      ...(typeof call.args.path === 'string' ? { path: call.args.path } : {}),
      decision: verdict.decision,
      reason: verdict.reason,
      policies: verdict.policies,
      ...(verdict.trial ? { trial: { decision: verdict.trial.decision, policies: verdict.trial.policies, reason: verdict.trial.reason } } : {}),
    });
    if (verdict.decision === 'deny') return fail(`Denied by policy: ${verdict.reason}`);
    if (call.name === 'propose_changes') return this.proposeChanges(call);
    if (verdict.decision === 'ask') {
      if (this.deps.limits && !this.deps.limits.prompt()) {
        const message = this.deps.limits.reached!.message;
        await this.record('error', call.session, { call_id: call.callId, tool: call.name, message });
        return fail(message);
      }
      const allowed = await this.askPermission(call, summary, verdict.reason, call.args.path);
      if (!allowed) return fail('The user denied this request.');
    }
    return this.runReadTool(call.session, call.name, call.args, signal ? { signal } : {});
  }

  private async askPermission(call: ToolCall, summary: string, reason: string, path: unknown): Promise<boolean> {
    const binding = bindingFor(call.session, call.callId, { tool: call.name, args: call.args });
    await this.record('prompt.asked', call.session, { call_id: call.callId, tool: call.name, summary, reason });
    const answer = await this.deps.prompter.askPermission({
      binding,
      session: call.session,
      callId: call.callId,
      tool: call.name,
      summary,
      reason,
      args: call.args,
    });
    // An answer bound to another request (or forged) is a deny.
    const allow = answer.binding === binding && answer.allow === true;
    await this.record('prompt.answered', call.session, {
      call_id: call.callId,
      tool: call.name,
      answer: allow ? 'allow' : 'deny',
      ...(allow && answer.scope && answer.scope !== 'once' ? { scope: answer.scope } : {}),
      ...(answer.binding !== binding ? { note: 'answer not bound to this request; treated as deny' } : {}),
    });
    if (allow && answer.scope && answer.scope !== 'once') await this.grant(call, answer.scope, path);
    return allow;
  }

  /** Keeps the person's yes as a grant (Cedar) and decides with it from now on. */
  private async grant(call: ToolCall, scope: GrantScope, path: unknown): Promise<void> {
    const store = this.deps.grants;
    if (!store) return;
    const grant = await store.add({
      scope,
      tool: call.name,
      ...(typeof path === 'string' ? { path: normalizeRel(path) } : {}),
      taskId: this.deps.task,
      principal: this.policy.principal,
      at: new Date().toISOString(),
    });
    await this.record('policy.grant', call.session, { call_id: call.callId, tool: call.name, grant: grant.id, scope, cedar: grant.cedar });
    const set = await store.policySet();
    this.policy = this.policy.withGrants(set ? [set] : []);
  }

  private async runReadTool(
    session: string,
    name: ToolName,
    args: Record<string, unknown>,
    walk: WalkOptions,
  ): Promise<ToolOutcome> {
    const ws = this.deps.workspace;
    switch (name) {
      case 'workspace_list':
        return ok(await ws.list(args as WorkspaceListArgs, (path) => this.decide('workspace_list', path) !== 'deny', walk));
      case 'workspace_read': {
        const result = await ws.read(args as unknown as WorkspaceReadArgs);
        this.ledger(session).set(result.path, result.sha256);
        return ok(result);
      }
      case 'workspace_search':
        // Searching a file shows its content: only files that both search and read policy allow outright.
        return ok(
          await ws.search(
            args as unknown as WorkspaceSearchArgs,
            (path) => this.decide('workspace_search', path) === 'allow' && this.decide('workspace_read', path) === 'allow',
            walk,
          ),
        );
      default:
        return fail(`${name} is not a read tool.`);
    }
  }

  private async proposeChanges(call: ToolCall): Promise<ToolOutcome> {
    const args = call.args as { summary?: unknown; changes?: unknown };
    const summary = typeof args.summary === 'string' ? args.summary : '';
    const prepared = await prepareChangeset(this.deps.workspace, call.args, this.ledger(call.session));
    for (const file of prepared) {
      if (file.status !== 'ready') continue;
      const verdict = this.strictest('propose_changes', file.path, file.realPath ?? file.path);
      if (verdict.decision === 'deny') {
        file.status = 'invalid';
        file.reason = `Denied by policy: ${verdict.reason}`;
      }
    }
    await this.record('changeset.proposed', call.session, {
      call_id: call.callId,
      summary,
      files: prepared.map((f) => ({
        path: f.path,
        operation: f.operation,
        status: f.status,
        added: f.stats.added,
        removed: f.stats.removed,
        ...(f.reason ? { reason: f.reason } : {}),
      })),
    });

    const results = await this.reviewPrepared(call, summary, prepared);
    const applied = results.filter((r) => r.status === 'applied').map((r) => r.path);
    const output: ProposeChangesResult = { results };
    return { success: true, output: JSON.stringify(output), applied };
  }

  /**
   * The per-file review every changeset goes through, whether the agent proposed it (`propose_changes`) or it was
   * taken from the environment's shadow workspace: files that are not ready are reported as they are, each ready
   * file is put to the person, and approved ones are written by `apply` (`applyPreparedFile` on this workspace
   * unless the caller writes more than text, e.g. binary files and modes). Every step is audited.
   */
  async reviewPrepared(
    call: Pick<ToolCall, 'session' | 'callId'>,
    summary: string,
    prepared: PreparedFile[],
    apply: (file: PreparedFile) => Promise<ChangeResult> = (file) => applyPreparedFile(this.deps.workspace, file),
  ): Promise<ChangeResult[]> {
    this.deps.observer?.changesetPrepared?.(call, summary, prepared);
    const results: ChangeResult[] = [];
    const ready = prepared.filter((f) => f.status === 'ready');
    let index = 0;
    for (const file of prepared) {
      if (file.status !== 'ready') {
        const type: AuditEventType = file.status === 'conflict' ? 'changeset.conflict' : 'changeset.invalid';
        await this.record(type, call.session, { call_id: call.callId, path: file.path, reason: file.reason ?? '' });
        results.push({ path: file.path, status: file.status, ...(file.reason ? { reason: file.reason } : {}) });
        continue;
      }
      index++;
      results.push(await this.review(call, summary, file, index, ready.length, apply));
    }
    return results;
  }

  private async review(
    call: Pick<ToolCall, 'session' | 'callId'>,
    summary: string,
    file: PreparedFile,
    index: number,
    total: number,
    apply: (file: PreparedFile) => Promise<ChangeResult>,
  ): Promise<ChangeResult> {
    // The reviewer sees where the write really lands when the agent named it through a symlink.
    const realPath = file.realPath;
    const binding = fileReviewBinding(call.session, call.callId, file);
    const answer = await this.deps.prompter.reviewFile({
      binding,
      session: call.session,
      callId: call.callId,
      summary,
      file,
      ...(realPath ? { realPath } : {}),
      index,
      total,
    });
    const comment = answer.comment?.trim() || undefined;
    if (answer.binding !== binding || answer.verdict !== 'approve') {
      await this.record('changeset.rejected', call.session, {
        call_id: call.callId,
        path: file.path,
        approver: this.deps.actor.principal,
        ...(comment ? { comment } : {}),
        ...(answer.binding !== binding ? { note: 'answer not bound to this file; treated as reject' } : {}),
      });
      return { path: file.path, status: 'rejected', ...(comment ? { comment } : {}) };
    }
    await this.record('changeset.approved', call.session, {
      call_id: call.callId,
      path: file.path,
      approver: this.deps.actor.principal,
      ...(comment ? { comment } : {}),
    });
    // A filesystem failure on one file (disk full, name too long) is that file's result, not the whole call's:
    // files already written stay reported as applied.
    const result = await apply(file).catch(
      (err: unknown): ChangeResult => ({
        path: file.path,
        status: 'invalid',
        reason: `Writing ${file.path} failed: ${err instanceof Error ? err.message : String(err)}. Nothing was written to it.`,
      }),
    );
    if (result.status === 'applied') {
      await this.record('changeset.applied', call.session, {
        call_id: call.callId,
        path: file.path,
        operation: file.operation,
        approver: this.deps.actor.principal,
        before_sha256: file.baseSha256,
        added: file.stats.added,
        removed: file.stats.removed,
      });
      // The agent's view of the file is now what it wrote, so a follow-up edit builds on it.
      this.ledger(call.session).delete(file.path);
      this.deps.observer?.changeApplied?.(result);
    } else {
      await this.record(result.status === 'conflict' ? 'changeset.conflict' : 'changeset.invalid', call.session, {
        call_id: call.callId,
        path: file.path,
        reason: result.reason ?? '',
      });
    }
    return comment && result.status === 'applied' ? { ...result, comment } : result;
  }

  /**
   * Policy for a call, judged on the path as the agent spelled it and, when a symlink inside the workspace leads
   * elsewhere, on the real path too: the stricter verdict wins. A path the workspace refuses outright is left
   * for the tool to refuse with its own message.
   */
  private async verdictFor(tool: ToolName, path: unknown): Promise<PolicyVerdict> {
    if (typeof path !== 'string') return this.policy.decide({ tool });
    let resolved: { rel: string; realRel: string };
    try {
      resolved = await this.deps.workspace.resolve(path);
    } catch {
      return this.policy.decide({ tool, path: normalizeRel(path) });
    }
    return this.strictest(tool, resolved.rel, resolved.realRel);
  }

  private strictest(tool: ToolName, spelledPath: string, realPath: string): PolicyVerdict {
    const spelled = this.policy.decide({ tool, path: spelledPath });
    if (realPath === spelledPath) return spelled;
    const real = this.policy.decide({ tool, path: realPath });
    return STRICTNESS[real.decision] > STRICTNESS[spelled.decision]
      ? { ...real, reason: `${real.reason} (${spelledPath} is a link to ${realPath})` }
      : spelled;
  }

  private decide(tool: ToolName, path: string): PolicyVerdict['decision'] {
    return this.policy.decide({ tool, path }).decision;
  }

  private ledger(session: string): Map<string, string> {
    let ledger = this.reads.get(session);
    if (!ledger) this.reads.set(session, (ledger = new Map()));
    return ledger;
  }

  private async record(type: AuditEventType, session: string, data: Record<string, unknown>): Promise<void> {
    await this.deps.audit.append({ type, session, task: this.deps.task, actor: this.deps.actor, data });
  }
}

/** The binding of one proposed file's review: this session, this call, this exact change to this exact base. */
export function fileReviewBinding(session: string, callId: string, file: PreparedFile): string {
  return bindingFor(session, callId, {
    path: file.path,
    realPath: file.realPath ?? null,
    operation: file.operation,
    base: file.baseSha256,
    after: file.after,
  });
}

export function summarize(name: string, args: unknown): string {
  const a = isObject(args) ? args : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  switch (name) {
    case 'workspace_list':
      return `list ${str(a.path) || '.'}${a.glob ? ` (${str(a.glob)})` : ''}`;
    case 'workspace_read': {
      const range = a.start_line || a.end_line ? ` lines ${a.start_line ?? 1}-${a.end_line ?? 'end'}` : '';
      return `read ${str(a.path)}${range}`;
    }
    case 'workspace_search':
      return `search "${str(a.query)}"${a.glob ? ` in ${str(a.glob)}` : ''}`;
    case 'propose_changes': {
      const changes = Array.isArray(a.changes) ? a.changes : [];
      return `propose changes to ${changes.length} file${changes.length === 1 ? '' : 's'}`;
    }
    default:
      return name;
  }
}

const STRICTNESS: Record<PolicyVerdict['decision'], number> = { allow: 0, ask: 1, deny: 2 };

function normalizeRel(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/\/+/g, '/') || '.';
}

function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ok(value: unknown): ToolOutcome {
  return { success: true, output: JSON.stringify(value), applied: [] };
}

function fail(error: string): ToolOutcome {
  return { success: false, error, applied: [] };
}
