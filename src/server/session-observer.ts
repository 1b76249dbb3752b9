/**
 * Turns what the engine reports about one session (the TaskObserver callbacks of the task, the turn follower and
 * the ToolRunner) into engine events for the panel: streamed text with a message id, tool calls with their duration
 * and result size, and what became of a reviewed changeset (its card comes from the broker, which asks the question).
 */
import { randomUUID } from 'node:crypto';
import type { TaskObserver } from '../core/task.js';
import { fileReviewBinding, type ToolOutcome } from '../core/tool-runner.js';
import type { EventInput } from './event-log.js';
import type { PromptBroker } from './prompt-broker.js';

export function sessionObserver(sessionId: string, emit: (e: EventInput) => void, broker: PromptBroker): TaskObserver {
  let messageId = newId('msg');
  let text = '';
  const started = new Map<string, number>();
  return {
    text(delta) {
      text += delta;
      emit({ type: 'message.delta', messageId, delta });
    },
    messageDone() {
      emit({ type: 'message.completed', messageId, text });
      messageId = newId('msg');
      text = '';
    },
    notice(message) {
      emit({ type: 'notice', message });
    },
    reconnecting(attempt) {
      emit({ type: 'notice', message: `Connection to the endpoint lost; reconnecting (attempt ${attempt}).` });
    },
    environmentReviewed(notes, sent) {
      // The review's notes are the agent's next message: shown as what was sent, as the person's own words are.
      if (sent) emit({ type: 'message.user', messageId: newId('msg'), text: notes });
      else emit({ type: 'notice', message: notes });
    },
    toolStarted(call, summary) {
      started.set(call.callId, Date.now());
      emit({ type: 'tool.called', callId: call.callId, tool: call.name, argsSummary: summary, status: 'running' });
    },
    toolFinished(call, outcome) {
      const t0 = started.get(call.callId) ?? Date.now();
      started.delete(call.callId);
      const result = outcome.success ? outcome.output ?? '' : outcome.error ?? '';
      emit({
        type: 'tool.completed',
        callId: call.callId,
        tool: call.name,
        status: outcome.success ? 'succeeded' : denied(outcome) ? 'denied' : 'failed',
        durationMs: Date.now() - t0,
        resultBytes: Buffer.byteLength(result, 'utf8'),
        ...(outcome.success ? {} : { resultSummary: outcome.error ?? 'failed' }),
      });
    },
    changesetConflict(call, binding, conflict) {
      emit({ type: 'changeset.conflict', changesetId: call.callId, binding, conflict });
    },
    changesetApplied(call, files, results) {
      results.forEach((r, i) => {
        if (r.status === 'conflict') {
          const f = files[i]!;
          broker.changesets.keepConflict(sessionId, call.callId, fileReviewBinding(call.session, call.callId, f), { path: f.path, baseSha256: f.baseSha256, currentSha256: null, reason: r.reason ?? '' }, f);
        }
      });
      emit({
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
    },
  };
}

function denied(outcome: ToolOutcome): boolean {
  return /^(Denied by policy|The user denied)/.test(outcome.error ?? '');
}

export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}
