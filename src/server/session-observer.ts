/**
 * Turns what the engine reports about one session (the TaskObserver callbacks of the task, the turn follower and
 * the ToolRunner) into engine events for the panel: streamed text with a message id, tool calls with their duration
 * and result size, and the changeset card with a binding per file.
 */
import { randomUUID } from 'node:crypto';
import type { TaskObserver } from '../core/task.js';
import { fileReviewBinding, type ToolCall, type ToolOutcome } from '../core/tool-runner.js';
import type { ProposeChangesResult } from '../protocol/tools.js';
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
      if (call.name === 'propose_changes' && outcome.success) emitApplied(call, outcome, emit);
    },
    changesetPrepared(call, summary, files) {
      const card = files.map((f) => {
        const binding = fileReviewBinding(call.session, call.callId, f);
        if (f.status === 'ready') {
          broker.announceFile({ sessionId, changesetId: call.callId, binding, path: f.path, before: f.before ?? '', after: f.after ?? '' });
        }
        return {
          binding,
          path: f.path,
          ...(f.realPath ? { realPath: f.realPath } : {}),
          operation: f.operation,
          state: f.status,
          ...(f.reason ? { reason: f.reason } : {}),
          added: f.stats.added,
          removed: f.stats.removed,
          diff: f.displayDiff,
          ...(f.rationale ? { rationale: f.rationale } : {}),
        };
      });
      emit({ type: 'changeset.proposed', changesetId: call.callId, callId: call.callId, summary, files: card });
    },
  };
}

function emitApplied(call: ToolCall, outcome: ToolOutcome, emit: (e: EventInput) => void): void {
  let parsed: ProposeChangesResult;
  try {
    parsed = JSON.parse(outcome.output ?? '') as ProposeChangesResult;
  } catch {
    return;
  }
  emit({
    type: 'changeset.applied',
    changesetId: call.callId,
    results: parsed.results.map((r) => ({
      path: r.path,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.comment ? { comment: r.comment } : {}),
    })),
  });
}

function denied(outcome: ToolOutcome): boolean {
  return /^(Denied by policy|The user denied)/.test(outcome.error ?? '');
}

export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}
