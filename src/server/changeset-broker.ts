/**
 * The editor's side of the review model (issue 9 §1): each changeset the engine asks about stays open until every
 * file that needs a decision (ready or in conflict) has one, from the card, the diff editor or a hunk's lens, in any
 * order and in as many requests as the person likes; then the engine gets the whole answer at once and applies the
 * approved set. A decision counts only for a file of that changeset with that binding and no decision yet; what is
 * refused says why and decides nothing. Unanswered by the deadline, or the session stopped: nothing of the set is
 * applied (approvals given so far lapse).
 */
import { withdrawalOf } from '../core/ask-within.js';
import type { AskOptions } from '../core/prompter.js';
import { changesetFileOf, type ChangesetReviewAnswer, type ChangesetReviewQuestion, type ReviewItem } from '../core/changeset/review.js';
import type { ConflictReport, FileDecision, PromptWithdrawalReason, ReviewVerdict } from '../protocol/events.js';
import type { PendingChangeset, ReviewChangeset } from '../protocol/lsp.js';
import { sha256Hex } from '../core/workspace-text.js';
import type { EventInput } from './event-log.js';

interface Open {
  question: ChangesetReviewQuestion;
  decisions: Map<string, FileDecision>;
  comments: string[];
  deadline: string;
  timer: NodeJS.Timeout;
  settle(answer: ChangesetReviewAnswer): void;
}

/** A conflict kept after its changeset closed, so both versions can still be opened. */
interface KeptConflict {
  sessionId: string;
  changesetId: string;
  path: string;
  base: string | null;
  proposed: string | null;
  conflict: ConflictReport;
}

export interface ChangesetBrokerDeps {
  emit(sessionId: string, event: EventInput): void;
  timeoutMs(): number;
  /** Told whenever a changeset opens, a file of one is decided, or one closes. */
  changed(sessionId: string): void;
  /** The task and folder of a session, for the "Changes" list. */
  describe(sessionId: string): { task: string; folder: string } | undefined;
}

const needsDecision = (i: ReviewItem) => i.file.status === 'ready' || i.file.status === 'conflict';
const MAX_KEPT_CONFLICTS = 200;

export class ChangesetBroker {
  /** Open changesets by `${sessionId}\n${changesetId}`. */
  private readonly open = new Map<string, Open>();
  private readonly conflicts = new Map<string, KeptConflict>();

  constructor(private readonly deps: ChangesetBrokerDeps) {}

  /** The engine's question: resolves once every file is decided, the deadline passes or the session stops. */
  ask(question: ChangesetReviewQuestion, options?: AskOptions): Promise<ChangesetReviewAnswer> {
    const key = keyOf(question.session, question.changesetId);
    // The engine withdrew the question (its turn stopped, or its own deadline passed): the card closes too.
    options?.signal.addEventListener('abort', () => this.close(key, withdrawalOf(options.signal)), { once: true });
    return new Promise((resolve) => {
      const timeout = this.deps.timeoutMs();
      const timer = setTimeout(() => this.close(key, 'timedOut'), timeout);
      timer.unref();
      const open: Open = { question, decisions: new Map(), comments: [], deadline: new Date(Date.now() + timeout).toISOString(), timer, settle: resolve };
      this.open.set(key, open);
      this.deps.emit(question.session, cardOf(question, open.deadline));
      this.deps.changed(question.session);
      // A changeset with nothing to decide (every file invalid) is answered at once.
      this.settleIfDone(key, open);
    });
  }

  /** The deadline the card shows for an open changeset. */
  deadline(sessionId: string, changesetId: string): string | undefined {
    return this.open.get(keyOf(sessionId, changesetId))?.deadline;
  }

  /** A person's decisions on files of a changeset. */
  decide(p: ReviewChangeset.Params): ReviewChangeset.Result {
    const key = keyOf(p.sessionId, p.changesetId);
    const open = this.open.get(key);
    if (!open) {
      return { accepted: [], refused: p.files.map((f) => ({ binding: f.binding, reason: 'This changeset is no longer open for review.' })), undecided: 0 };
    }
    const items = new Map(open.question.items.map((i) => [i.binding, i]));
    const accepted: string[] = [];
    const refused: { binding: string; reason: string }[] = [];
    for (const d of p.files) {
      const item = items.get(d.binding);
      const problem = !item ? 'No file of this changeset has this binding.' : open.decisions.has(d.binding) ? 'This file is already decided.' : refusal(item, d);
      if (problem) {
        refused.push({ binding: d.binding, reason: problem });
        continue;
      }
      this.take(open, item!, d);
      accepted.push(d.binding);
    }
    if (p.rest) {
      for (const item of open.question.items) {
        if (!needsDecision(item) || open.decisions.has(item.binding)) continue;
        const decision = p.rest === 'approve' && item.file.status !== 'ready' ? 'reject' : p.rest;
        this.take(open, item, { binding: item.binding, decision });
        accepted.push(item.binding);
      }
    }
    if (p.comment?.trim()) open.comments.push(p.comment.trim());
    this.deps.changed(p.sessionId);
    const undecided = this.undecided(open);
    this.settleIfDone(key, open);
    return { accepted, refused, undecided };
  }

  /** The coarse form (`deputy/reviewFiles`): one verdict for the files named. */
  decideCoarse(sessionId: string, changesetId: string, bindings: string[], verdict: ReviewVerdict | 'requestChanges', comment?: string): string[] {
    const files = bindings.map((binding): FileDecision => ({ binding, decision: verdict, ...(comment ? { comment } : {}) }));
    return this.decide({ sessionId, changesetId, files }).accepted;
  }

  /** A proposed file still open for review, for the diff editor. */
  file(sessionId: string, changesetId: string, binding: string): { path: string; before: string; after: string } | undefined {
    const item = this.open.get(keyOf(sessionId, changesetId))?.question.items.find((i) => i.binding === binding);
    if (!item || item.file.status !== 'ready') return undefined;
    return { path: item.file.path, before: item.file.before ?? '', after: item.file.after ?? '' };
  }

  /** Keeps an apply-time conflict, so both versions can be opened after the changeset closed. */
  keepConflict(sessionId: string, changesetId: string, binding: string, conflict: ConflictReport, file: { before: string | null; after: string | null }): void {
    this.conflicts.set(binding, { sessionId, changesetId, path: conflict.path, base: file.before, proposed: file.after, conflict });
    // Bounded: the oldest go first (Map keeps insertion order).
    while (this.conflicts.size > MAX_KEPT_CONFLICTS) this.conflicts.delete(this.conflicts.keys().next().value!);
  }

  /** What a conflict is about, for `deputy/conflictVersions`; the current text is read by the caller. */
  conflict(sessionId: string, changesetId: string, binding: string): Omit<KeptConflict, 'sessionId' | 'changesetId'> | undefined {
    const kept = this.conflicts.get(binding);
    if (kept && kept.sessionId === sessionId && kept.changesetId === changesetId) return kept;
    const item = this.open.get(keyOf(sessionId, changesetId))?.question.items.find((i) => i.binding === binding);
    if (!item || item.file.status !== 'conflict') return undefined;
    // A conflict found before review: the agent's base is known by its hash only; the proposal was not computed.
    return {
      path: item.file.path,
      base: null,
      proposed: null,
      conflict: { path: item.file.path, baseSha256: item.file.readSha256 ?? null, currentSha256: item.file.baseSha256, reason: item.file.reason ?? '' },
    };
  }

  /** Files still waiting for a decision in a session's open changesets. */
  pending(sessionId: string): number {
    let n = 0;
    for (const o of this.open.values()) if (o.question.session === sessionId) n += this.undecided(o);
    return n;
  }

  /** Every open changeset, for the "Changes" tree view. */
  list(): PendingChangeset[] {
    return [...this.open.values()].map((o) => {
      const q = o.question;
      const about = this.deps.describe(q.session);
      return {
        sessionId: q.session,
        changesetId: q.changesetId,
        task: about?.task ?? '',
        folder: about?.folder ?? '',
        summary: q.summary,
        round: q.round,
        source: q.source,
        files: q.items.map((i) => ({
          binding: i.binding,
          path: i.file.path,
          state: i.file.status,
          added: i.file.stats.added,
          removed: i.file.stats.removed,
          decided: o.decisions.has(i.binding),
        })),
        deadline: o.deadline,
      };
    });
  }

  /** Closes a session's open changesets: their undecided files are rejected. */
  withdrawSession(sessionId: string, reason: PromptWithdrawalReason): number {
    let n = 0;
    for (const [key, o] of [...this.open]) {
      if (o.question.session !== sessionId) continue;
      n += this.undecided(o);
      this.close(key, reason);
    }
    return n;
  }

  /**
   * A session ended for good: its kept conflicts go too. Not at the end of a turn: a conflict is what the person
   * looks at after the agent's turn ended ("Show both versions", then "Ask the agent to redo it").
   */
  forgetSession(sessionId: string): void {
    for (const [binding, c] of this.conflicts) if (c.sessionId === sessionId) this.conflicts.delete(binding);
  }

  private take(open: Open, item: ReviewItem, d: FileDecision): void {
    open.decisions.set(item.binding, d);
    const verdict: ReviewVerdict = d.decision === 'approve' || (d.decision === 'keepHunks' && (d.hunkIds?.length ?? 0) > 0) ? 'approve' : 'reject';
    this.deps.emit(open.question.session, {
      type: 'changeset.verdict',
      changesetId: open.question.changesetId,
      binding: item.binding,
      path: item.file.path,
      verdict,
      decision: d.decision,
      ...(d.hunkIds ? { hunkIds: d.hunkIds } : {}),
      ...(d.comment ? { comment: d.comment } : {}),
      ...(d.lineComments?.length ? { lineComments: d.lineComments } : {}),
    });
  }

  private undecided(o: Open): number {
    return o.question.items.filter((i) => needsDecision(i) && !o.decisions.has(i.binding)).length;
  }

  private settleIfDone(key: string, open: Open): void {
    if (this.undecided(open) === 0) this.finish(key, open);
  }

  private close(key: string, reason: PromptWithdrawalReason): void {
    const o = this.open.get(key);
    if (!o) return;
    for (const item of o.question.items) {
      if (needsDecision(item) && !o.decisions.has(item.binding)) this.deps.emit(o.question.session, { type: 'prompt.withdrawn', binding: item.binding, reason });
    }
    // A set not wholly decided applies nothing: approvals given so far lapse; rejections keep their comments.
    for (const [binding, d] of o.decisions) if (d.decision === 'approve' || d.decision === 'keepHunks') o.decisions.delete(binding);
    this.finish(key, o);
  }

  private finish(key: string, o: Open): void {
    clearTimeout(o.timer);
    this.open.delete(key);
    o.settle({ decisions: [...o.decisions.values()], ...(o.comments.length ? { comment: o.comments.join('\n\n') } : {}) });
    this.deps.changed(o.question.session);
  }
}

/** The `changeset.proposed` event of a question: every file with its binding, hunks and round marks. */
function cardOf(q: ChangesetReviewQuestion, deadline: string): EventInput {
  return {
    type: 'changeset.proposed',
    changesetId: q.changesetId,
    callId: q.callId,
    summary: q.summary,
    source: q.source,
    round: q.round,
    ...(q.previousChangesetId ? { previousChangesetId: q.previousChangesetId } : {}),
    deadline,
    files: q.items.map(({ binding, file: f, hunks, revision }) => ({
      ...changesetFileOf(binding, f),
      proposalSha256: f.status === 'ready' && f.after !== null ? sha256Hex(f.after) : null,
      hunks,
      ...(revision ? { revision } : {}),
      ...(f.status === 'conflict' ? { conflict: { path: f.path, baseSha256: f.readSha256 ?? null, currentSha256: f.baseSha256, reason: f.reason ?? '' } } : {}),
    })),
  };
}

function keyOf(sessionId: string, changesetId: string): string {
  return `${sessionId}\n${changesetId}`;
}

/** Why a decision cannot be taken for this file, or undefined when it can. */
function refusal(item: ReviewItem, d: FileDecision): string | undefined {
  const status = item.file.status;
  if (status === 'invalid') return `This file cannot be applied (${item.file.reason ?? 'invalid'}); it needs no decision.`;
  if ((d.decision === 'approve' || d.decision === 'keepHunks') && status !== 'ready') {
    return 'A file in conflict cannot be approved: reject it, or ask the agent to redo it on the current content.';
  }
  if (d.decision === 'redo' && status !== 'conflict') return 'Only a file in conflict can be sent back to be redone.';
  if (d.decision === 'keepHunks') {
    const known = new Set(item.hunks.map((h) => h.hunkId));
    const unknown = (d.hunkIds ?? []).find((id) => !known.has(id));
    if (unknown !== undefined) return `This file has no hunk ${unknown}.`;
  }
  return undefined;
}
