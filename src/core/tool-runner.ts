/**
 * Runs one client-tool call of the agent on the developer's machine: policy first, then a person when the
 * policy asks, then the tool; every step on the audit trail. `propose_changes` always goes to per-file review:
 * no policy and no flag approves a change.
 */
import { Workspace, type WalkOptions } from './workspace.js';
import { prepareChangeset, DEFAULT_APPLY_CONCURRENCY, type PreparedFile } from './changeset/index.js';
import { applyKeptHunks, markRevision } from './changeset/hunks.js';
import { keepPreImages } from './changeset/pre-images.js';
import { answerFileByFile, decideAll, reviewItems, type ChangesetReviewAnswer, type ChangesetReviewQuestion, type Decided } from './changeset/review.js';
import { DiskWorkspaceFiles, type WorkspaceEdit, type WorkspaceEditResult, type WorkspaceFiles } from './workspace-files.js';
import { sha256Hex } from './workspace-text.js';
import type { ChangesetHunk, ConflictReport } from '../protocol/events.js';
import type { Policy, PolicyVerdict } from './policy.js';
import type { GrantScope, GrantStore } from './grants.js';
import { principalOf } from './cedar/request.js';
import type { AuditActor, AuditEventType, AuditLog } from './audit.js';
import { askWithin, type Asked, type Withdrawal } from './ask-within.js';
import { bindingFor, DEFAULT_QUESTION_TIMEOUT_MS, type AskOptions, type Prompter } from './prompter.js';
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
   * A changeset was prepared: every file, before any is reviewed, so a reviewer can see the whole changeset at once
   * (the panel's card); `question` is what the prompter is then asked (bindings, hunks, round).
   */
  changesetPrepared?(call: Pick<ToolCall, 'session' | 'callId'>, summary: string, files: PreparedFile[], question: ChangesetReviewQuestion): void;
  /** A reviewed changeset was applied: what happened to every prepared file, in order. */
  changesetApplied?(call: Pick<ToolCall, 'session' | 'callId'>, files: PreparedFile[], results: ChangeResult[]): void;
  /** A question closed without the person's answer (its deadline passed, its turn stopped): a deny or a reject. */
  promptWithdrawn?(call: Pick<ToolCall, 'session' | 'callId'>, reason: Withdrawal): void;
  /** An approved file was not written because it changed since the agent read it (or since review). */
  changesetConflict?(call: Pick<ToolCall, 'session' | 'callId'>, binding: string, conflict: ConflictReport): void;
}

/** How a caller of `reviewPrepared` differs from `propose_changes`. */
export interface ReviewOptions {
  source?: ChangesetReviewQuestion['source'];
  /** Aborts when the turn stops: the open review is withdrawn (every undecided file rejected). */
  signal?: AbortSignal;
  /**
   * Writes one approved file itself instead of the workspace port, for what the port cannot carry (binary content);
   * undefined leaves the file to the port. Called for all approved files together, a bounded number at a time.
   */
  apply?: (file: PreparedFile) => Promise<ChangeResult> | undefined;
}

/** What a review decided and did. */
export interface ReviewOutcome {
  /** Per prepared file, in order: what happened, with the reviewer's feedback for the agent. */
  results: ChangeResult[];
  /** Per prepared file: the content written when only some hunks were kept (else undefined). */
  written: (string | null | undefined)[];
  /** The reviewer's general comment on the whole changeset. */
  comment?: string;
}

export interface ToolRunnerDeps {
  workspace: Workspace;
  policy: Policy;
  audit: AuditLog;
  prompter: Prompter;
  actor: AuditActor;
  task: string;
  observer?: ToolObserver;
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
  /** Per session: the last changeset reviewed, so the agent's revision can say what changed since. */
  private readonly rounds = new Map<string, { changesetId: string; round: number; requested: boolean; hunks: Map<string, ChangesetHunk[]> }>();
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
  }

  /**
   * `signal` ends a workspace walk at once (a cancelled task); the walk's result then says it was cancelled.
   * `limits` are the turn's caps: a prompt over its cap is not asked (the runner outlives turns, the caps do not).
   */
  async run(call: ToolCall, signal?: AbortSignal, limits?: TurnLimits): Promise<ToolOutcome> {
    const { observer } = this.deps;
    const summary = summarize(call.name, call.args);
    observer?.toolStarted?.(call, summary);
    await this.record('tool.call', call.session, { call_id: call.callId, tool: call.name, summary });
    let outcome: ToolOutcome;
    try {
      outcome = await this.gateAndRun(call, summary, signal, limits);
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

  private async gateAndRun(call: ToolCall, summary: string, signal: AbortSignal | undefined, limits: TurnLimits | undefined): Promise<ToolOutcome> {
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
    if (call.name === 'propose_changes') return this.proposeChanges(call, signal);
    if (verdict.decision === 'ask') {
      if (limits && !limits.prompt()) {
        const message = limits.reached!.message;
        await this.record('error', call.session, { call_id: call.callId, tool: call.name, message });
        return fail(message);
      }
      const allowed = await this.askPermission(call, summary, verdict.reason, call.args.path, signal);
      if (!allowed) return fail('The user denied this request.');
    }
    return this.runReadTool(call.session, call.name, call.args, signal ? { signal } : {});
  }

  private async askPermission(call: ToolCall, summary: string, reason: string, path: unknown, signal: AbortSignal | undefined): Promise<boolean> {
    const binding = bindingFor(call.session, call.callId, { tool: call.name, args: call.args });
    await this.record('prompt.asked', call.session, { call_id: call.callId, tool: call.name, summary, reason });
    const question = { binding, session: call.session, callId: call.callId, tool: call.name, summary, reason, args: call.args };
    const asked = await this.ask((options) => this.deps.prompter.askPermission({ ...question, deadline: options.deadline }, options), signal);
    if ('withdrawn' in asked) {
      // No answer from the person: a deny, on the trail as the answer it stands for.
      await this.record('prompt.answered', call.session, { call_id: call.callId, tool: call.name, answer: 'deny', withdrawn: asked.withdrawn });
      this.deps.observer?.promptWithdrawn?.(call, asked.withdrawn);
      return false;
    }
    const answer = asked.answer;
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

  /** Puts a question to the prompter with the deadline, withdrawn when `signal` aborts (`ask-within.ts`). */
  private ask<T>(put: (options: AskOptions & { deadline: string }) => Promise<T>, signal: AbortSignal | undefined): Promise<Asked<T>> {
    const timeoutMs = this.deps.promptTimeoutMs ?? DEFAULT_QUESTION_TIMEOUT_MS;
    const deadline = new Date(Date.now() + timeoutMs).toISOString();
    return askWithin((withdraw) => put({ signal: withdraw, deadline }), { signal, timeoutMs });
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

    const reviewed = await this.reviewPrepared(call, summary, prepared, signal ? { signal } : {});
    const applied = reviewed.results.filter((r) => r.status === 'applied').map((r) => r.path);
    const output: ProposeChangesResult = { results: reviewed.results, ...(reviewed.comment ? { comment: reviewed.comment } : {}) };
    return { success: true, output: JSON.stringify(output), applied };
  }

  /**
   * The review every changeset goes through, whether the agent proposed it (`propose_changes`) or it was taken from
   * the environment's shadow workspace: the whole set is put to the person in one question with a binding per file
   * (or file by file, for a prompter that asks that way), and only once every file is decided are the approved files
   * and the kept hunks applied, together: through the workspace port (`deps.files`, the disk by default) unless the
   * caller writes more than text (`options.apply`, e.g. binary files and modes). Every step is audited; every applied
   * file's pre-image is kept for "Revert this task's changes".
   */
  async reviewPrepared(
    call: Pick<ToolCall, 'session' | 'callId'>,
    summary: string,
    prepared: PreparedFile[],
    options: ReviewOptions = {},
  ): Promise<ReviewOutcome> {
    const question = this.question(call, summary, prepared, options.source ?? 'proposeChanges');
    this.deps.observer?.changesetPrepared?.(call, summary, prepared, question);
    const prompter = this.deps.prompter;
    // A review nobody finishes in time, or one still open when the turn stops, decides nothing: every undecided file is rejected.
    const withdrawn = (reason: Withdrawal) => this.deps.observer?.promptWithdrawn?.(call, reason);
    const answer = prompter.reviewChangeset
      ? await this.ask((o) => prompter.reviewChangeset!(question, o), options.signal).then((a): ChangesetReviewAnswer => {
          if ('answer' in a) return a.answer;
          withdrawn(a.withdrawn);
          return { decisions: [] };
        })
      : await answerFileByFile(question, async (item, index, total) => {
          const asked = await this.ask(
            (o) =>
              prompter.reviewFile(
                {
                  binding: item.binding,
                  session: call.session,
                  callId: call.callId,
                  summary,
                  file: item.file,
                  ...(item.file.realPath ? { realPath: item.file.realPath } : {}),
                  index,
                  total,
                  deadline: o.deadline,
                },
                o,
              ),
            options.signal,
          );
          if ('withdrawn' in asked) {
            withdrawn(asked.withdrawn);
            return { binding: item.binding, decision: 'reject' as const };
          }
          const a = asked.answer;
          return { binding: a.binding, decision: a.verdict, ...(a.comment ? { comment: a.comment } : {}) };
        });
    const decided = decideAll(question, answer);
    this.rounds.set(call.session, {
      changesetId: question.changesetId,
      round: question.round,
      // A rejection that tells the agent why (a comment, a line comment) asks for a revision as much as "Request
      // changes" does: the agent's next proposal is its answer, marked against this round.
      requested: decided.some((d) => d.decision === 'requestChanges' || (d.decision === 'reject' && (d.comment?.trim() || d.lineComments?.length))),
      hunks: new Map(question.items.map((i) => [i.file.path, i.hunks])),
    });
    const results: ChangeResult[] = new Array(decided.length);
    const written: (string | null | undefined)[] = new Array(decided.length);
    const toApply: number[] = [];
    for (const [i, d] of decided.entries()) {
      const file = d.item.file;
      const feedback = feedbackOf(d);
      if (d.decision === 'approve' || d.decision === 'keepHunks') {
        await this.record('changeset.approved', call.session, {
          call_id: call.callId,
          path: file.path,
          approver: this.deps.actor.principal,
          ...(d.keep ? { kept_hunks: [...d.keep] } : {}),
          ...(d.comment ? { comment: d.comment } : {}),
        });
        toApply.push(i);
        continue;
      }
      if (file.status !== 'ready' && d.decision !== 'redo') {
        const type: AuditEventType = file.status === 'conflict' ? 'changeset.conflict' : 'changeset.invalid';
        await this.record(type, call.session, { call_id: call.callId, path: file.path, reason: file.reason ?? '' });
        results[i] = { path: file.path, status: file.status, ...(file.reason ? { reason: file.reason } : {}), ...feedback };
        continue;
      }
      if (d.decision === 'redo') {
        const [now] = await this.files().read([file.path]);
        await this.record('changeset.conflict', call.session, { call_id: call.callId, path: file.path, reason: file.reason ?? '', redo: true });
        results[i] = {
          path: file.path,
          status: 'conflict',
          reason: `${file.reason ?? `"${file.path}" changed since you read it.`} The reviewer asks you to redo your change on its current content, below.`,
          ...feedback,
          ...(now?.content != null ? { current_content: now.content, current_sha256: now.sha256! } : {}),
        };
        // The agent now knows the current content: a proposal against it is not a conflict.
        if (now?.sha256) this.ledger(call.session).set(file.path, now.sha256);
        continue;
      }
      await this.record('changeset.rejected', call.session, {
        call_id: call.callId,
        path: file.path,
        approver: this.deps.actor.principal,
        ...(d.decision === 'requestChanges' ? { changes_requested: true } : {}),
        ...(d.comment ? { comment: d.comment } : {}),
        ...(d.lineComments ? { line_comments: d.lineComments.length } : {}),
        ...(d.note ? { note: d.note } : {}),
      });
      results[i] = { path: file.path, status: 'rejected', ...feedback };
    }
    const appliedNow = await this.applyApproved(call, decided, toApply, options.apply);
    for (const [i, r] of appliedNow) {
      results[i] = { ...r.result, ...feedbackOf(decided[i]!) };
      written[i] = r.written;
    }
    this.deps.observer?.changesetApplied?.(call, prepared, results);
    return { results, written, ...(answer.comment?.trim() ? { comment: answer.comment.trim() } : {}) };
  }

  private question(call: Pick<ToolCall, 'session' | 'callId'>, summary: string, prepared: PreparedFile[], source: ChangesetReviewQuestion['source']): ChangesetReviewQuestion {
    const items = reviewItems(prepared, (f) => fileReviewBinding(call.session, call.callId, f));
    const last = this.rounds.get(call.session);
    const revising = last?.requested === true;
    if (revising) {
      for (const item of items) {
        if (item.file.status === 'ready') item.revision = markRevision(item.hunks, last.hunks.get(item.file.path));
      }
    }
    return {
      session: call.session,
      callId: call.callId,
      changesetId: call.callId,
      summary,
      source,
      round: revising ? last.round + 1 : 1,
      ...(revising ? { previousChangesetId: last.changesetId } : {}),
      items,
    };
  }

  /**
   * Applies the approved files together (in parallel through the port), re-anchoring kept hunks on each file's current
   * content, and keeps the pre-image of every file written. Returns each applied index's result.
   */
  private async applyApproved(
    call: Pick<ToolCall, 'session' | 'callId'>,
    decided: Decided[],
    indexes: number[],
    custom: ReviewOptions['apply'],
  ): Promise<Map<number, { result: ChangeResult; written?: string | null }>> {
    const out = new Map<number, { result: ChangeResult; written?: string | null }>();
    if (indexes.length === 0) return out;
    const port = this.files();
    const hunked = indexes.filter((i) => decided[i]!.decision === 'keepHunks');
    const current = new Map((await port.read(hunked.map((i) => decided[i]!.item.file.path))).map((f) => [f.path, f]));
    // What each approved file becomes: the proposal, or the kept hunks on the file's content now.
    const plans: { index: number; file: PreparedFile; edit: WorkspaceEdit }[] = [];
    for (const i of indexes) {
      const d = decided[i]!;
      const file = d.item.file;
      if (d.decision !== 'keepHunks') {
        plans.push({ index: i, file, edit: { path: file.path, kind: file.operation, expectedSha256: file.baseSha256, before: file.before, content: file.after } });
        continue;
      }
      const now = current.get(file.path);
      if (!now || now.content === null) {
        out.set(i, { result: conflictResult(file, `"${file.path}" no longer exists (or cannot be read as text); nothing was written.`) });
        continue;
      }
      const kept = applyKeptHunks(file, now.content, d.keep!);
      if ('conflict' in kept) {
        out.set(i, { result: conflictResult(file, kept.conflict) });
        continue;
      }
      const keptFile: PreparedFile = { ...file, before: now.content, after: kept.content, baseSha256: now.sha256 };
      plans.push({ index: i, file: keptFile, edit: { path: file.path, kind: 'update', expectedSha256: now.sha256, before: now.content, content: kept.content } });
    }
    // A filesystem failure (disk full, name too long) is the result of the files it hit, not of the whole call.
    const failed = (file: PreparedFile, err: unknown): ChangeResult => ({
      path: file.path,
      status: 'invalid',
      reason: `Writing ${file.path} failed: ${err instanceof Error ? err.message : String(err)}. Nothing was written to it.`,
    });
    // What the caller writes itself, and the rest through the port as one set (one editor Undo).
    const results: ChangeResult[] = new Array(plans.length);
    const viaPort: number[] = [];
    await mapBounded([...plans.keys()], DEFAULT_APPLY_CONCURRENCY, async (k) => {
      const own = custom?.(plans[k]!.file);
      if (own) results[k] = await own.catch((err: unknown) => failed(plans[k]!.file, err));
      else viaPort.push(k);
    });
    if (viaPort.length > 0) {
      viaPort.sort((a, b) => a - b);
      const edits = viaPort.map((k) => plans[k]!.edit);
      const answers = await port
        .apply(`Deputy: ${edits.length} approved file${edits.length === 1 ? '' : 's'}`, edits)
        .then((rs) => rs.map(fromPort), (err: unknown) => viaPort.map((k) => failed(plans[k]!.file, err)));
      viaPort.forEach((k, j) => (results[k] = answers[j]!));
    }
    const images: Parameters<typeof keepPreImages>[1] = [];
    for (const [k, plan] of plans.entries()) {
      const r = results[k]!;
      const file = plan.file;
      const d = decided[plan.index]!;
      const result: ChangeResult = r.status === 'conflict' ? { path: file.path, status: 'conflict', reason: r.reason ?? `"${file.path}" changed after review; nothing was written.` } : r;
      if (result.status === 'applied') {
        await this.record('changeset.applied', call.session, {
          call_id: call.callId,
          path: file.path,
          operation: file.operation,
          approver: this.deps.actor.principal,
          before_sha256: file.baseSha256,
          added: file.stats.added,
          removed: file.stats.removed,
          ...(d.keep ? { kept_hunks: [...d.keep] } : {}),
        });
        // The agent's view of the file is now what was written, so a follow-up edit builds on it.
        this.ledger(call.session).delete(file.path);
        this.deps.observer?.changeApplied?.(result);
        if (file.operation === 'create' || file.before !== null) {
          images.push({ task: this.deps.task, session: call.session, changesetId: call.callId, path: file.path, before: file.operation === 'create' ? null : file.before, afterSha256: file.after === null ? null : sha256Hex(file.after) });
        }
        const keptHeaders = d.keep ? d.item.hunks.filter((h) => d.keep!.has(h.hunkId)).map((h) => h.header) : undefined;
        out.set(plan.index, { result: { ...result, ...(keptHeaders ? { kept_hunks: keptHeaders } : {}) }, ...(d.keep ? { written: file.after } : {}) });
      } else {
        await this.record(result.status === 'conflict' ? 'changeset.conflict' : 'changeset.invalid', call.session, { call_id: call.callId, path: file.path, reason: result.reason ?? '' });
        if (result.status === 'conflict') {
          // Both versions: what the agent's change was based on, and what is there now.
          const [now] = await port.read([file.path]).catch(() => []);
          this.deps.observer?.changesetConflict?.(call, d.item.binding, conflictReport(file, now?.sha256 ?? null, result.reason ?? ''));
        }
        out.set(plan.index, { result });
      }
    }
    for (const [i, r] of out) {
      if (r.result.status === 'conflict' && !plans.some((p) => p.index === i)) {
        const d = decided[i]!;
        await this.record('changeset.conflict', call.session, { call_id: call.callId, path: d.item.file.path, reason: r.result.reason ?? '' });
        this.deps.observer?.changesetConflict?.(call, d.item.binding, conflictReport(d.item.file, current.get(d.item.file.path)?.sha256 ?? null, r.result.reason ?? ''));
      }
    }
    await keepPreImages(this.deps.workspace.root, images);
    return out;
  }

  private files(): WorkspaceFiles {
    return (this.port ??= this.deps.files ?? new DiskWorkspaceFiles(this.deps.workspace));
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

/** What the agent learns of the reviewer's decision on one file, besides its status. */
function feedbackOf(d: Decided): Partial<ChangeResult> {
  return {
    ...(d.comment ? { comment: d.comment } : {}),
    ...(d.lineComments ? { line_comments: d.lineComments.map((c) => ({ line: c.line, side: c.side, text: c.text })) } : {}),
    ...(d.decision === 'requestChanges' ? { changes_requested: true } : {}),
  };
}

function conflictReport(file: PreparedFile, currentSha256: string | null, reason: string): ConflictReport {
  return { path: file.path, baseSha256: file.baseSha256, currentSha256, reason };
}

function conflictResult(file: PreparedFile, reason: string): ChangeResult {
  return { path: file.path, status: 'conflict', reason };
}

function fromPort(r: WorkspaceEditResult): ChangeResult {
  if (r.status === 'applied') return { path: r.path, status: 'applied' };
  return { path: r.path, status: r.status === 'conflict' ? 'conflict' : 'invalid', ...(r.reason !== undefined ? { reason: r.reason } : {}) };
}

/** `task` on every item, at most `limit` at a time; results in order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
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
