/**
 * The engine's `Prompter` for the editor: every question becomes an event the panel shows, and waits for a person's
 * answer sent back over the pipe with the question's binding. An answer counts only for the open question with that
 * exact binding (anything else is refused and approves nothing; the ToolRunner checks the binding again). A question
 * nobody answers within `deputy.prompts.timeoutMinutes` is a deny; so is every open question of a session that stops.
 *
 * File reviews: the whole changeset is announced at once (the ToolRunner's `changesetPrepared`), and a verdict given
 * for a file the runner has not asked about yet is kept until it asks, so "Approve all" is one gesture.
 */
import type { FileReviewAnswer, FileReviewQuestion, PermissionAnswer, PermissionQuestion, Prompter } from '../core/prompter.js';
import type { PromptDecision, PromptWithdrawalReason, ReviewVerdict } from '../protocol/events.js';
import type { EventInput } from './event-log.js';

interface Open {
  sessionId: string;
  binding: string;
  kind: 'permission' | 'review';
  /** Resolves the engine's question; `null` is a withdrawal (deny / reject). */
  settle(answer: { decision: PromptDecision | ReviewVerdict; comment?: string } | null): void;
  timer: NodeJS.Timeout;
}

interface Announced {
  sessionId: string;
  changesetId: string;
  path: string;
  /** The file now and after the change, for the diff editor. */
  before: string;
  after: string;
  verdict?: { verdict: ReviewVerdict; comment?: string };
}

export interface PromptBrokerDeps {
  emit(sessionId: string, event: EventInput): void;
  timeoutMs(): number;
  /** Told whenever the number of open questions of a session changes. */
  changed(sessionId: string): void;
}

export class PromptBroker {
  private readonly open = new Map<string, Open>();
  /** Files of announced changesets, by binding. */
  private readonly files = new Map<string, Announced>();
  /** Per session: tools the person allowed for the rest of the task. */
  private readonly allowedForTask = new Map<string, Set<string>>();

  constructor(private readonly deps: PromptBrokerDeps) {}

  /** The engine-facing side: every session's ToolRunner asks through it (each question names its session). */
  readonly prompter: Prompter = {
    askPermission: (q) => this.askPermission(q),
    reviewFile: (q) => this.reviewFile(q),
  };

  announceFile(file: Omit<Announced, 'verdict'> & { binding: string }): void {
    const { binding, ...rest } = file;
    this.files.set(binding, rest);
  }

  /** A proposed file still open for review, for the diff editor. */
  file(sessionId: string, changesetId: string, binding: string): { path: string; before: string; after: string } | undefined {
    const f = this.files.get(binding);
    return f && f.sessionId === sessionId && f.changesetId === changesetId ? { path: f.path, before: f.before, after: f.after } : undefined;
  }

  /** Files of announced changesets still without a verdict (for the "Review N agent changes" code lens). */
  unreviewedFiles(): { sessionId: string; path: string }[] {
    const out: { sessionId: string; path: string }[] = [];
    for (const f of this.files.values()) if (!f.verdict) out.push({ sessionId: f.sessionId, path: f.path });
    return out;
  }

  pending(sessionId: string): number {
    let n = 0;
    for (const o of this.open.values()) if (o.sessionId === sessionId) n++;
    return n;
  }

  /** A person's answer to a permission prompt. */
  answer(sessionId: string, binding: string, decision: PromptDecision, comment?: string): boolean {
    const o = this.open.get(binding);
    if (!o || o.kind !== 'permission' || o.sessionId !== sessionId) return false;
    this.close(o, { decision, ...(comment ? { comment } : {}) });
    this.deps.emit(sessionId, { type: 'prompt.answered', binding, decision, ...(comment ? { comment } : {}) });
    return true;
  }

  /** A person's verdict on files of a changeset; returns the bindings that took it. */
  review(sessionId: string, changesetId: string, bindings: string[], verdict: ReviewVerdict, comment?: string): string[] {
    const accepted: string[] = [];
    for (const binding of bindings) {
      const file = this.files.get(binding);
      if (!file || file.sessionId !== sessionId || file.changesetId !== changesetId || file.verdict) continue;
      file.verdict = { verdict, ...(comment ? { comment } : {}) };
      accepted.push(binding);
      this.deps.emit(sessionId, { type: 'changeset.verdict', changesetId, binding, path: file.path, verdict, ...(comment ? { comment } : {}) });
      const o = this.open.get(binding);
      if (o && o.kind === 'review') this.close(o, { decision: verdict, ...(comment ? { comment } : {}) });
    }
    return accepted;
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
    for (const [binding, f] of this.files) if (f.sessionId === sessionId) this.files.delete(binding);
    return n;
  }

  /** A session ended for good: nothing it allowed carries over. */
  forget(sessionId: string): void {
    this.withdrawSession(sessionId, 'sessionStopped');
    this.allowedForTask.delete(sessionId);
  }

  private askPermission(q: PermissionQuestion): Promise<PermissionAnswer> {
    const allowed = this.allowedForTask.get(q.session);
    const deadline = new Date(Date.now() + this.deps.timeoutMs()).toISOString();
    this.deps.emit(q.session, { type: 'prompt.asked', binding: q.binding, callId: q.callId, tool: q.tool, summary: q.summary, args: q.args, reason: q.reason, deadline });
    if (allowed?.has(q.tool)) {
      this.deps.emit(q.session, { type: 'prompt.answered', binding: q.binding, decision: 'allowTask' });
      return Promise.resolve({ binding: q.binding, allow: true });
    }
    return new Promise((resolve) => {
      this.wait(q.session, q.binding, 'permission', (a) => {
        if (a?.decision === 'allowTask') {
          let set = this.allowedForTask.get(q.session);
          if (!set) this.allowedForTask.set(q.session, (set = new Set()));
          set.add(q.tool);
        }
        resolve({ binding: q.binding, allow: a !== null && (a.decision === 'allowOnce' || a.decision === 'allowTask') });
      });
    });
  }

  private reviewFile(q: FileReviewQuestion): Promise<FileReviewAnswer> {
    const file = this.files.get(q.binding);
    const toAnswer = (a: { decision: PromptDecision | ReviewVerdict; comment?: string } | null): FileReviewAnswer => ({
      binding: q.binding,
      verdict: a?.decision === 'approve' ? 'approve' : 'reject',
      ...(a?.comment ? { comment: a.comment } : {}),
    });
    if (file?.verdict) return Promise.resolve(toAnswer({ decision: file.verdict.verdict, ...(file.verdict.comment ? { comment: file.verdict.comment } : {}) }));
    return new Promise((resolve) => this.wait(q.session, q.binding, 'review', (a) => resolve(toAnswer(a))));
  }

  private wait(sessionId: string, binding: string, kind: Open['kind'], settle: Open['settle']): void {
    const timer = setTimeout(() => {
      const o = this.open.get(binding);
      if (!o) return;
      this.close(o, null);
      this.deps.emit(sessionId, { type: 'prompt.withdrawn', binding, reason: 'timedOut' });
    }, this.deps.timeoutMs());
    timer.unref();
    this.open.set(binding, { sessionId, binding, kind, settle, timer });
    this.deps.changed(sessionId);
  }

  private close(o: Open, answer: Parameters<Open['settle']>[0]): void {
    clearTimeout(o.timer);
    this.open.delete(o.binding);
    o.settle(answer);
    this.deps.changed(o.sessionId);
  }
}
