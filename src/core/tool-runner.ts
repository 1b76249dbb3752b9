/**
 * Runs one client-tool call of the agent on the developer's machine: policy first, then a person when the
 * policy asks, then the tool; every step reported on the engine's event channel (and so on the audit trail) before
 * the next one happens. `propose_changes` always goes to per-file review (`changeset-reviewer.ts`): no policy and no
 * flag approves a change.
 */
import { Workspace, type WalkOptions } from './workspace.js';
import { prepareChangeset, type PreparedFile } from './changeset/index.js';
import { changesetFileOf } from './changeset/review.js';
import { ChangesetReviewer, fileReviewBinding, type ChangesetCall, type ReviewOptions, type ReviewOutcome } from './changeset-reviewer.js';
import { DiskWorkspaceFiles, type WorkspaceFiles } from './workspace-files.js';
import type { Policy, PolicyVerdict } from './policy.js';
import type { GrantScope, GrantStore } from './grants.js';
import { principalOf } from './cedar/request.js';
import type { AuditActor, AuditLog } from './audit.js';
import { askByDeadline, deadlineIn } from './ask-within.js';
import { EngineEvents } from './event-channel.js';
import type { TrailFact } from './audit-events.js';
import { bindingFor, DEFAULT_QUESTION_TIMEOUT_MS, type Prompter } from './prompter.js';
import type { TurnLimits } from './turn-limits.js';
import type { ChangesetFile } from '../protocol/events.js';
import {
  TOOL_NAMES,
  type ProposeChangesResult,
  type ToolName,
  type WorkspaceListArgs,
  type WorkspaceReadArgs,
  type WorkspaceSearchArgs,
} from '../protocol/tools.js';

export { fileReviewBinding, type ReviewOptions, type ReviewOutcome };

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
  /** The policy or the person said no (rather than the tool failing). */
  denied?: boolean;
  /** Files written to disk by this call (propose_changes). */
  applied: string[];
}

export interface ToolRunnerDeps {
  workspace: Workspace;
  policy: Policy;
  /** The trail, when no channel is given: the runner then reports to a channel of its own that only the trail hears. */
  audit: AuditLog;
  prompter: Prompter;
  actor: AuditActor;
  task: string;
  /** The task's event channel (its trail is this task's audit): where every step is reported. */
  events?: EngineEvents;
  /** Where a yes "for this task" or "for this workspace" is kept; without it every yes is for one request. */
  grants?: GrantStore;
  /** Where approved files are read and written: the disk unless a front end holds them (the editor). */
  files?: WorkspaceFiles;
  /** How long a question waits for a person before it is a deny (a review: a reject); 15 minutes when absent. */
  promptTimeoutMs?: number;
}

export class ToolRunner {
  /** Per session: relative path → SHA-256 of the file when the agent last read it. */
  private readonly reads = new Map<string, Map<string, string>>();
  private readonly events: EngineEvents;
  private readonly reviewer: ChangesetReviewer;
  private port: WorkspaceFiles | undefined;

  /** The deps' policy, plus the grants the person gave during this task. */
  private policy: Policy;

  constructor(private readonly deps: ToolRunnerDeps) {
    // Policies decide for the person this runner acts for (their ARN, or the local user), within this task.
    // A policy already deciding for this very person keeps its principal (with the tags only its loader knew, such
    // as the AWS profile).
    const principal = principalOf(deps.actor);
    const same = deps.policy.principal.arn === principal.arn;
    this.policy = (same ? deps.policy : deps.policy.withPrincipal(principal)).withTask({ taskId: deps.task });
    this.events = deps.events ?? EngineEvents.forTask(deps.audit, deps.actor, deps.task);
    this.reviewer = new ChangesetReviewer({
      root: deps.workspace.root,
      prompter: deps.prompter,
      events: this.events,
      task: deps.task,
      approver: deps.actor.principal,
      files: () => (this.port ??= deps.files ?? new DiskWorkspaceFiles(deps.workspace)),
      ledger: (session) => this.ledger(session),
      ...(deps.promptTimeoutMs !== undefined ? { promptTimeoutMs: deps.promptTimeoutMs } : {}),
    });
  }

  /**
   * `signal` ends a workspace walk at once (a cancelled task); the walk's result then says it was cancelled.
   * `limits` are the turn's caps: a prompt over its cap is not asked (the runner outlives turns, the caps do not).
   */
  async run(call: ToolCall, signal?: AbortSignal, limits?: TurnLimits): Promise<ToolOutcome> {
    const summary = summarize(call.name, call.args);
    const started = Date.now();
    await this.events.emit(call.session, { type: 'tool.called', callId: call.callId, tool: call.name, argsSummary: summary, status: 'running' });
    let outcome: ToolOutcome;
    try {
      outcome = await this.gateAndRun(call, summary, signal, limits);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      outcome = { success: false, error: message, applied: [] };
      await this.record(call, { type: 'error', data: { call_id: call.callId, tool: call.name, message } });
    }
    const result = outcome.success ? outcome.output ?? '' : outcome.error ?? '';
    await this.events.emit(call.session, {
      type: 'tool.completed',
      callId: call.callId,
      tool: call.name,
      status: outcome.success ? 'succeeded' : outcome.denied ? 'denied' : 'failed',
      durationMs: Date.now() - started,
      resultBytes: Buffer.byteLength(result, 'utf8'),
      ...(!outcome.success && outcome.error ? { resultSummary: outcome.error } : {}),
    });
    return outcome;
  }

  private async gateAndRun(call: ToolCall, summary: string, signal: AbortSignal | undefined, limits: TurnLimits | undefined): Promise<ToolOutcome> {
    if (!isToolName(call.name)) {
      return fail(`Unknown tool "${call.name}". Deputy's tools are: ${TOOL_NAMES.join(', ')}.`);
    }
    if (!isObject(call.args)) return fail(`Arguments for ${call.name} must be a JSON object.`);
    const verdict = await this.verdictFor(call.name, call.args.path);
    await this.record(call, {
      type: 'policy.decision',
      data: {
        call_id: call.callId,
        tool: call.name,
        ...(typeof call.args.path === 'string' ? { path: call.args.path } : {}),
        decision: verdict.decision,
        reason: verdict.reason,
        policies: verdict.policies,
        ...(verdict.trial ? { trial: { decision: verdict.trial.decision, policies: verdict.trial.policies, reason: verdict.trial.reason } } : {}),
      },
    });
    if (verdict.decision === 'deny') return { ...fail(`Denied by policy: ${verdict.reason}`), denied: true };
    if (call.name === 'propose_changes') return this.proposeChanges(call, signal);
    if (verdict.decision === 'ask') {
      if (limits && !limits.prompt()) {
        const message = limits.reached!.message;
        await this.record(call, { type: 'error', data: { call_id: call.callId, tool: call.name, message } });
        return fail(message);
      }
      const allowed = await this.askPermission(call, summary, verdict.reason, call.args.path, signal);
      if (!allowed) return { ...fail('The user denied this request.'), denied: true };
    }
    return this.runReadTool(call.session, call.name, call.args, signal ? { signal } : {});
  }

  private async askPermission(call: ToolCall, summary: string, reason: string, path: unknown, signal: AbortSignal | undefined): Promise<boolean> {
    const binding = bindingFor(call.session, call.callId, { tool: call.name, args: call.args });
    const timeoutMs = this.deps.promptTimeoutMs ?? DEFAULT_QUESTION_TIMEOUT_MS;
    const deadline = deadlineIn(timeoutMs);
    const of = { call: { callId: call.callId, tool: call.name } };
    // On the trail before the person sees it.
    await this.events.emit(call.session, { type: 'prompt.asked', binding, callId: call.callId, tool: call.name, summary, args: call.args, reason, deadline });
    const question = { binding, session: call.session, callId: call.callId, tool: call.name, summary, reason, args: call.args, deadline };
    const asked = await askByDeadline((s) => this.deps.prompter.askPermission(question, { signal: s }), { signal, timeoutMs, deadline });
    if ('withdrawn' in asked) {
      await this.events.emit(call.session, { type: 'prompt.withdrawn', binding, reason: asked.withdrawn }, of);
      return false;
    }
    const answer = asked.answer;
    // An answer bound to another request (or forged) is a deny.
    const allow = answer.binding === binding && answer.allow === true;
    const lasting = allow && answer.scope && answer.scope !== 'once' ? answer.scope : undefined;
    await this.events.emit(
      call.session,
      { type: 'prompt.answered', binding, decision: !allow ? 'deny' : lasting ? 'allowTask' : 'allowOnce' },
      {
        ...of,
        ...(lasting ? { scope: lasting } : {}),
        ...(answer.binding !== binding ? { note: 'answer not bound to this request; treated as deny' } : {}),
      },
    );
    if (lasting) await this.grant(call, lasting, path);
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
    await this.record(call, { type: 'policy.grant', data: { call_id: call.callId, tool: call.name, grant: grant.id, scope, cedar: grant.cedar } });
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

  private async proposeChanges(call: ToolCall, signal: AbortSignal | undefined): Promise<ToolOutcome> {
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
    await this.events.emit(call.session, {
      type: 'changeset.proposed',
      changesetId: call.callId,
      callId: call.callId,
      summary,
      files: prepared.map((f) => proposedFile(call, f)),
      source: 'proposeChanges',
    });

    const reviewed = await this.reviewPrepared(call, summary, prepared, signal ? { signal } : {});
    const applied = reviewed.results.filter((r) => r.status === 'applied').map((r) => r.path);
    const output: ProposeChangesResult = { results: reviewed.results, ...(reviewed.comment ? { comment: reviewed.comment } : {}) };
    return { success: true, output: JSON.stringify(output), applied };
  }

  /** The review every changeset goes through (`changeset-reviewer.ts`), with this runner's ledger of what the agent read. */
  reviewPrepared(call: ChangesetCall, summary: string, prepared: PreparedFile[], options: ReviewOptions = {}): Promise<ReviewOutcome> {
    return this.reviewer.review(call, summary, prepared, options);
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

  private record(call: ToolCall, fact: TrailFact): Promise<void> {
    return this.events.record(call.session, fact);
  }
}

/** A prepared file as the changeset's event shows it (the review's question adds hunks and rounds). */
function proposedFile(call: ChangesetCall, f: PreparedFile): ChangesetFile {
  return changesetFileOf(fileReviewBinding(call.session, call.callId, f), f);
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
