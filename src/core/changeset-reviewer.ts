/**
 * The review every changeset goes through, whether the agent proposed it (`propose_changes`) or it was taken from the
 * environment's shadow workspace: the whole set is put to the person in one question with a binding per file (or
 * file by file, for a prompter that asks that way), and only once every file is decided are the approved files and the
 * kept hunks applied, together: through the workspace port (the disk by default) unless the caller writes more than
 * text (`ReviewOptions.apply`, e.g. binary files and modes). Every verdict and outcome is reported on the engine's
 * channel (and so on the trail); every applied file's pre-image is kept for "Revert this task's changes".
 */
import type { ChangesetHunk, ConflictReport } from '../protocol/events.js';
import type { ChangeResult } from '../protocol/tools.js';
import { askByDeadline, type Asked, type Withdrawal } from './ask-within.js';
import { DEFAULT_APPLY_CONCURRENCY, type PreparedFile } from './changeset/index.js';
import { applyKeptHunks, markRevision } from './changeset/hunks.js';
import { keepPreImages } from './changeset/pre-images.js';
import { answerFileByFile, decideAll, reviewItems, type ChangesetReviewAnswer, type ChangesetReviewQuestion, type Decided } from './changeset/review.js';
import type { EngineEvents } from './event-channel.js';
import { mapBounded } from './map-bounded.js';
import { bindingFor, DEFAULT_QUESTION_TIMEOUT_MS, type Prompter } from './prompter.js';
import type { WorkspaceEdit, WorkspaceEditResult, WorkspaceFiles } from './workspace-files.js';
import { sha256Hex } from './workspace-text.js';

/** Which changeset of which session: the proposing tool call, or the environment's review. */
export interface ChangesetCall {
  session: string;
  callId: string;
}

/** How a caller of `review` differs from `propose_changes`. */
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

export interface ChangesetReviewerDeps {
  /** The workspace root: where pre-images are kept. */
  root: string;
  prompter: Prompter;
  events: EngineEvents;
  /** The task the pre-images belong to. */
  task: string;
  /** Who approves: the person the engine acts for (their principal ARN). */
  approver: string;
  /** Where approved files are read and written. */
  files: () => WorkspaceFiles;
  /** Per session: relative path → SHA-256 of the file when the agent last read it (a redo updates it). */
  ledger: (session: string) => Map<string, string>;
  /** How long a review waits for a person before every undecided file is rejected. */
  promptTimeoutMs?: number;
}

/** Why a file was rejected when its question was withdrawn before anyone decided (the trail's `note`). */
const WITHDRAWN_NOTE: Record<Withdrawal, string> = {
  timedOut: 'nobody decided before the question timed out; rejected',
  sessionStopped: 'nobody decided: the question was withdrawn before an answer (the session stopped, or the question could not be put); rejected',
};

export class ChangesetReviewer {
  /** Per session: the last changeset reviewed, so the agent's revision can say what changed since. */
  private readonly rounds = new Map<string, { changesetId: string; round: number; requested: boolean; hunks: Map<string, ChangesetHunk[]> }>();

  constructor(private readonly deps: ChangesetReviewerDeps) {}

  async review(call: ChangesetCall, summary: string, prepared: PreparedFile[], options: ReviewOptions = {}): Promise<ReviewOutcome> {
    const { events } = this.deps;
    const question = this.question(call, summary, prepared, options.source ?? 'proposeChanges');
    const { answer, withdrawn } = await this.ask(question, call, summary, options.signal);
    const decided = decideAll(question, answer);
    // A file nobody decided on is rejected, and the trail says so: not the person's no, the question's end.
    for (const d of decided) {
      const why = withdrawn.get(d.item.binding);
      if (why) d.note = WITHDRAWN_NOTE[why];
    }
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
      const verdict = { changesetId: call.callId, binding: d.item.binding, path: file.path, decision: d.decision };
      if (d.decision === 'approve' || d.decision === 'keepHunks') {
        await events.emit(call.session, {
          type: 'changeset.verdict',
          ...verdict,
          verdict: 'approve',
          ...(d.keep ? { hunkIds: [...d.keep] } : {}),
          ...(d.comment ? { comment: d.comment } : {}),
        });
        toApply.push(i);
        continue;
      }
      if (file.status !== 'ready' && d.decision !== 'redo') {
        await events.record(call.session, { type: file.status === 'conflict' ? 'changeset.conflict' : 'changeset.invalid', data: { call_id: call.callId, path: file.path, reason: file.reason ?? '' } });
        results[i] = { path: file.path, status: file.status, ...(file.reason ? { reason: file.reason } : {}), ...feedback };
        continue;
      }
      if (d.decision === 'redo') {
        const [now] = await this.deps.files().read([file.path]);
        await events.record(call.session, { type: 'changeset.conflict', data: { call_id: call.callId, path: file.path, reason: file.reason ?? '', redo: true } });
        results[i] = {
          path: file.path,
          status: 'conflict',
          reason: `${file.reason ?? `"${file.path}" changed since you read it.`} The reviewer asks you to redo your change on its current content, below.`,
          ...feedback,
          ...(now?.content != null ? { current_content: now.content, current_sha256: now.sha256! } : {}),
        };
        // The agent now knows the current content: a proposal against it is not a conflict.
        if (now?.sha256) this.deps.ledger(call.session).set(file.path, now.sha256);
        continue;
      }
      await events.emit(
        call.session,
        {
          type: 'changeset.verdict',
          ...verdict,
          verdict: 'reject',
          ...(d.comment ? { comment: d.comment } : {}),
          ...(d.lineComments ? { lineComments: d.lineComments } : {}),
        },
        d.note ? { note: d.note } : {},
      );
      results[i] = { path: file.path, status: 'rejected', ...feedback };
    }
    const appliedNow = await this.applyApproved(call, decided, toApply, options.apply);
    for (const [i, r] of appliedNow) {
      results[i] = { ...r.result, ...feedbackOf(decided[i]!) };
      written[i] = r.written;
    }
    await events.emit(call.session, {
      type: 'changeset.applied',
      changesetId: call.callId,
      results: results.map((r) => ({
        path: r.path,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        ...(r.comment ? { comment: r.comment } : {}),
        ...(r.kept_hunks ? { keptHunks: r.kept_hunks } : {}),
      })),
    });
    return { results, written, ...(answer.comment?.trim() ? { comment: answer.comment.trim() } : {}) };
  }

  /** Puts the question: whole, or file by file. A review nobody finishes in time (or still open when the turn stops) rejects every undecided file. */
  private async ask(
    question: ChangesetReviewQuestion,
    call: ChangesetCall,
    summary: string,
    signal: AbortSignal | undefined,
  ): Promise<{ answer: ChangesetReviewAnswer; withdrawn: Map<string, Withdrawal> }> {
    const { prompter, events } = this.deps;
    const timeoutMs = this.deps.promptTimeoutMs ?? DEFAULT_QUESTION_TIMEOUT_MS;
    /** The files whose question was withdrawn, and why. */
    const withdrawnFiles = new Map<string, Withdrawal>();
    const withdrawn = (bindings: string[], reason: Withdrawal) => {
      for (const binding of bindings) {
        withdrawnFiles.set(binding, reason);
        void events.emit(call.session, { type: 'prompt.withdrawn', binding, reason });
      }
    };
    const within = <T>(put: (s: AbortSignal, deadline: string) => Promise<T>): Promise<Asked<T>> => askByDeadline(put, { signal, timeoutMs });
    if (prompter.reviewChangeset) {
      const asked = await within((s) => prompter.reviewChangeset!(question, { signal: s }));
      if ('answer' in asked) return { answer: asked.answer, withdrawn: withdrawnFiles };
      withdrawn(question.items.map((i) => i.binding), asked.withdrawn);
      return { answer: { decisions: [] }, withdrawn: withdrawnFiles };
    }
    const answer = await answerFileByFile(question, async (item, index, total) => {
      const asked = await within((s, deadline) =>
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
            deadline,
          },
          { signal: s },
        ),
      );
      if ('withdrawn' in asked) {
        withdrawn([item.binding], asked.withdrawn);
        return { binding: item.binding, decision: 'reject' as const };
      }
      const a = asked.answer;
      return { binding: a.binding, decision: a.verdict, ...(a.comment ? { comment: a.comment } : {}) };
    });
    return { answer, withdrawn: withdrawnFiles };
  }

  private question(call: ChangesetCall, summary: string, prepared: PreparedFile[], source: ChangesetReviewQuestion['source']): ChangesetReviewQuestion {
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
    call: ChangesetCall,
    decided: Decided[],
    indexes: number[],
    custom: ReviewOptions['apply'],
  ): Promise<Map<number, { result: ChangeResult; written?: string | null }>> {
    const out = new Map<number, { result: ChangeResult; written?: string | null }>();
    if (indexes.length === 0) return out;
    const { events } = this.deps;
    const port = this.deps.files();
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
        await events.record(call.session, {
          type: 'changeset.applied',
          data: {
            call_id: call.callId,
            path: file.path,
            operation: file.operation,
            approver: this.deps.approver,
            before_sha256: file.baseSha256,
            added: file.stats.added,
            removed: file.stats.removed,
            ...(d.keep ? { kept_hunks: [...d.keep] } : {}),
          },
        });
        // The agent's view of the file is now what was written, so a follow-up edit builds on it.
        this.deps.ledger(call.session).delete(file.path);
        if (file.operation === 'create' || file.before !== null) {
          images.push({ task: this.deps.task, session: call.session, changesetId: call.callId, path: file.path, before: file.operation === 'create' ? null : file.before, afterSha256: file.after === null ? null : sha256Hex(file.after) });
        }
        const keptHeaders = d.keep ? d.item.hunks.filter((h) => d.keep!.has(h.hunkId)).map((h) => h.header) : undefined;
        out.set(plan.index, { result: { ...result, ...(keptHeaders ? { kept_hunks: keptHeaders } : {}) }, ...(d.keep ? { written: file.after } : {}) });
      } else if (result.status === 'conflict') {
        // Both versions: what the agent's change was based on, and what is there now.
        const [now] = await port.read([file.path]).catch(() => []);
        await this.conflict(call, d, conflictReport(file, now?.sha256 ?? null, result.reason ?? ''));
        out.set(plan.index, { result });
      } else {
        await events.record(call.session, { type: 'changeset.invalid', data: { call_id: call.callId, path: file.path, reason: result.reason ?? '' } });
        out.set(plan.index, { result });
      }
    }
    for (const [i, r] of out) {
      if (r.result.status === 'conflict' && !plans.some((p) => p.index === i)) {
        const d = decided[i]!;
        await this.conflict(call, d, conflictReport(d.item.file, current.get(d.item.file.path)?.sha256 ?? null, r.result.reason ?? ''));
      }
    }
    await keepPreImages(this.deps.root, images);
    return out;
  }

  /** An approved file not written because it changed since the agent read it (or since review). */
  private conflict(call: ChangesetCall, d: Decided, conflict: ConflictReport): Promise<void> {
    const file = d.item.file;
    return this.deps.events.emit(
      call.session,
      { type: 'changeset.conflict', changesetId: call.callId, binding: d.item.binding, conflict },
      { texts: { before: file.before, after: file.after } },
    );
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
