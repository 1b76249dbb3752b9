/**
 * The engine's `Prompter` for the editor: every question becomes an event the panel shows, and waits for a person's
 * answer sent back over the pipe with the question's binding. An answer counts only for the open question with that
 * exact binding (anything else is refused and approves nothing; the ToolRunner checks the binding again). A question
 * nobody answers within `deputy.prompts.timeoutMinutes` is a deny; so is every open question of a session that stops.
 *
 * Changeset reviews are one question for the whole set (`ChangesetBroker`): decisions accumulate per file and the
 * engine gets them all at once.
 */
import { reviewHunks } from '../core/changeset/hunks.js';
import { withdrawalOf } from '../core/ask-within.js';
import type { AskOptions, FileReviewAnswer, FileReviewQuestion, PermissionAnswer, PermissionQuestion, Prompter } from '../core/prompter.js';
import type { PromptDecision, PromptWithdrawalReason } from '../protocol/events.js';
import { ChangesetBroker } from './changeset-broker.js';
import type { EventInput } from './event-log.js';

interface Open {
  sessionId: string;
  binding: string;
  /** Resolves the engine's question; `null` is a withdrawal (deny). */
  settle(answer: { decision: PromptDecision; comment?: string } | null): void;
  timer: NodeJS.Timeout;
}

export interface PromptBrokerDeps {
  emit(sessionId: string, event: EventInput): void;
  timeoutMs(): number;
  /** Told whenever the number of open questions of a session changes. */
  changed(sessionId: string): void;
  /** The task and folder of a session, for the list of pending changesets. */
  describe?(sessionId: string): { task: string; folder: string } | undefined;
}

export class PromptBroker {
  private readonly open = new Map<string, Open>();
  /** Per session: tools the person allowed for the rest of the task. */
  private readonly allowedForTask = new Map<string, Set<string>>();
  readonly changesets: ChangesetBroker;

  constructor(private readonly deps: PromptBrokerDeps) {
    this.changesets = new ChangesetBroker({
      emit: deps.emit,
      timeoutMs: deps.timeoutMs,
      changed: deps.changed,
      describe: (id) => deps.describe?.(id),
    });
  }

  /** The engine-facing side: every session's ToolRunner asks through it (each question names its session). */
  readonly prompter: Prompter = {
    askPermission: (q, options) => this.askPermission(q, options),
    reviewFile: (q, options) => this.reviewFile(q, options),
    reviewChangeset: (q, options) => this.changesets.ask(q, options),
  };

  /** Files of open changesets still without a decision (for the "Review N agent changes" code lens). */
  unreviewedFiles(): { sessionId: string; path: string }[] {
    return this.changesets.list().flatMap((c) => c.files.filter((f) => !f.decided).map((f) => ({ sessionId: c.sessionId, path: f.path })));
  }

  pending(sessionId: string): number {
    let n = this.changesets.pending(sessionId);
    for (const o of this.open.values()) if (o.sessionId === sessionId) n++;
    return n;
  }

  /** A person's answer to a permission prompt. */
  answer(sessionId: string, binding: string, decision: PromptDecision, comment?: string): boolean {
    const o = this.open.get(binding);
    if (!o || o.sessionId !== sessionId) return false;
    this.close(o, { decision, ...(comment ? { comment } : {}) });
    this.deps.emit(sessionId, { type: 'prompt.answered', binding, decision, ...(comment ? { comment } : {}) });
    return true;
  }

  /** Closes every open question of a session as a deny, and forgets what it allowed for the task. */
  withdrawSession(sessionId: string, reason: PromptWithdrawalReason): number {
    let n = 0;
    for (const o of [...this.open.values()]) {
      if (o.sessionId !== sessionId) continue;
      this.close(o, null);
      this.deps.emit(sessionId, { type: 'prompt.withdrawn', binding: o.binding, reason });
      n++;
    }
    return n + this.changesets.withdrawSession(sessionId, reason);
  }

  /** A session ended for good: nothing it allowed carries over. */
  forget(sessionId: string): void {
    this.withdrawSession(sessionId, 'sessionStopped');
    this.allowedForTask.delete(sessionId);
    this.changesets.forgetSession(sessionId);
  }

  private askPermission(q: PermissionQuestion, options: AskOptions): Promise<PermissionAnswer> {
    const allowed = this.allowedForTask.get(q.session);
    const deadline = new Date(Date.now() + this.deps.timeoutMs()).toISOString();
    this.deps.emit(q.session, { type: 'prompt.asked', binding: q.binding, callId: q.callId, tool: q.tool, summary: q.summary, args: q.args, reason: q.reason, deadline });
    if (allowed?.has(q.tool)) {
      this.deps.emit(q.session, { type: 'prompt.answered', binding: q.binding, decision: 'allowTask' });
      return Promise.resolve({ binding: q.binding, allow: true });
    }
    // The engine withdrew the question (its turn stopped, or its own deadline passed): the card closes, a late answer is refused.
    options.signal.addEventListener('abort', () => this.withdraw(q.binding, withdrawalOf(options.signal)), { once: true });
    return new Promise((resolve) => {
      this.wait(q.session, q.binding, (a) => {
        if (a?.decision === 'allowTask') {
          let set = this.allowedForTask.get(q.session);
          if (!set) this.allowedForTask.set(q.session, (set = new Set()));
          set.add(q.tool);
        }
        resolve({ binding: q.binding, allow: a !== null && (a.decision === 'allowOnce' || a.decision === 'allowTask') });
      });
    });
  }

  /** One file asked on its own: a changeset of one, on the same model. */
  private async reviewFile(q: FileReviewQuestion, options: AskOptions): Promise<FileReviewAnswer> {
    const answer = await this.changesets.ask({
      session: q.session,
      callId: q.callId,
      changesetId: q.callId,
      summary: q.summary,
      source: 'proposeChanges',
      round: 1,
      items: [{ binding: q.binding, file: q.file, hunks: reviewHunks(q.file) }],
    }, options);
    const d = answer.decisions.find((x) => x.binding === q.binding);
    return { binding: q.binding, verdict: d?.decision === 'approve' ? 'approve' : 'reject', ...(d?.comment ? { comment: d.comment } : {}) };
  }

  /** Closes an open question as a deny, and tells the panel. */
  private withdraw(binding: string, reason: PromptWithdrawalReason): void {
    const o = this.open.get(binding);
    if (!o) return;
    this.close(o, null);
    this.deps.emit(o.sessionId, { type: 'prompt.withdrawn', binding, reason });
  }

  private wait(sessionId: string, binding: string, settle: Open['settle']): void {
    const timer = setTimeout(() => this.withdraw(binding, 'timedOut'), this.deps.timeoutMs());
    timer.unref();
    this.open.set(binding, { sessionId, binding, settle, timer });
    this.deps.changed(sessionId);
  }

  private close(o: Open, answer: Parameters<Open['settle']>[0]): void {
    clearTimeout(o.timer);
    this.open.delete(o.binding);
    o.settle(answer);
    this.deps.changed(o.sessionId);
  }
}
