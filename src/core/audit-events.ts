/**
 * The audit trail as a subscriber of the engine's event channel (`event-channel.ts`): which record each engine event
 * is, and with what data. The record format (`audit-record.ts`) is older than the event stream and readers rely on it
 * (`deputy audit verify`, the report, the timeline, the OTLP export), so the mapping keeps it field for field:
 * snake_case, `tool.call` / `tool.result` names, a withdrawn prompt recorded as the deny it stands for.
 * Events only for the screen (deltas, status, notices, a turn's start and end, usage and budget meters) have no record;
 * facts only the trail keeps come as `TrailFact`s.
 */
import type { EngineEventInput } from '../protocol/events.js';
import type { AuditActor, AuditEventType, AuditLog } from './audit.js';
import type { TrailSubscriber } from './event-channel.js';

/**
 * What the engine knows about an event beyond the event itself: what its record needs, and what an in-process
 * subscriber needs to act on it. Never sent on to a front end's process.
 */
export interface EventDetail {
  /**
   * The tool call a prompt belongs to: the trail files its answer (or withdrawal) under it. A review's per-file
   * questions have none: the trail has the verdict of each file instead.
   */
  call?: { callId: string; tool: string };
  /** For `prompt.answered`: how long the yes holds, when longer than this request. */
  scope?: 'task' | 'workspace';
  /** For `prompt.answered` and `changeset.verdict`: why the engine took the answer as it did. */
  note?: string;
  /** For `message.user`: what the message is when it is not the person's words (a review's notes, a raised budget). */
  from?: string;
  /** For `changeset.conflict`: the texts the proposal was made from and to, so both versions can be opened later. */
  texts?: { before: string | null; after: string | null };
  /** For a `notice` holding the end-of-turn review's notes (notes sent to the agent are a `message.user` instead). */
  reviewNotes?: boolean;
}

/** Records that no event carries: the engine's bookkeeping, kept only on the trail. */
export const TRAIL_FACT_TYPES = [
  'task.started',
  'task.finished',
  'session.created',
  'policy.decision',
  'policy.grant',
  /** One approved file written, with the hash it replaced (the `changeset.applied` event is the whole set's outcome). */
  'changeset.applied',
  /** A file found in conflict or invalid before review, or sent back to the agent to redo. */
  'changeset.conflict',
  'changeset.invalid',
  /** A turn's (or a task's) token use and cost, as readers of the trail sum it; the `usage` event is a running total. */
  'usage',
  /** A failure on the trail's own terms (a tool that threw, a cap, a task that broke off); the `error` event is the person's. */
  'error',
  /** A budget's warning, stop and raise (`budget.ts`); the `budget` event is the meter the person sees. */
  'budget.warning',
  'budget.reached',
  'budget.raised',
] as const satisfies readonly AuditEventType[];
export type TrailFactType = (typeof TRAIL_FACT_TYPES)[number];

/** A trail-only record: its type and data in the trail's format. */
export interface TrailFact {
  type: TrailFactType;
  data: Record<string, unknown>;
  /** Who acts, when it is not the person the task acts for by default (someone else raising a budget). */
  actor?: AuditActor;
}

interface MappedRecord {
  type: AuditEventType;
  data: Record<string, unknown>;
}

/** The record `event` is on the trail, or null for an event the trail does not keep. */
export function auditRecordFor(event: EngineEventInput, detail: EventDetail, actor: AuditActor): MappedRecord | null {
  switch (event.type) {
    case 'message.user':
      return { type: 'message.user', data: { text: event.text, ...(detail.from ? { from: detail.from } : {}) } };
    case 'message.completed':
      return { type: 'message.agent', data: { text: event.text } };
    case 'tool.called':
      return { type: 'tool.call', data: { call_id: event.callId, tool: event.tool, summary: event.argsSummary } };
    case 'tool.completed': {
      const success = event.status === 'succeeded';
      return {
        type: 'tool.result',
        data: { call_id: event.callId, tool: event.tool, success, ...(!success && event.resultSummary ? { error: event.resultSummary } : {}) },
      };
    }
    case 'prompt.asked':
      return { type: 'prompt.asked', data: { call_id: event.callId, tool: event.tool, summary: event.summary, reason: event.reason } };
    case 'prompt.answered':
      if (!detail.call) return null;
      return {
        type: 'prompt.answered',
        data: {
          call_id: detail.call.callId,
          tool: detail.call.tool,
          answer: event.decision === 'deny' ? 'deny' : 'allow',
          ...(detail.scope ? { scope: detail.scope } : {}),
          ...(detail.note ? { note: detail.note } : {}),
        },
      };
    case 'prompt.withdrawn':
      // No answer from the person is a deny: on the trail as the answer it stands for.
      if (!detail.call) return null;
      return { type: 'prompt.answered', data: { call_id: detail.call.callId, tool: detail.call.tool, answer: 'deny', withdrawn: event.reason } };
    case 'changeset.proposed':
      return {
        type: 'changeset.proposed',
        data: {
          call_id: event.callId ?? event.changesetId,
          summary: event.summary,
          files: event.files.map((f) => ({
            path: f.path,
            operation: f.operation,
            status: f.state,
            added: f.added,
            removed: f.removed,
            ...(f.reason ? { reason: f.reason } : {}),
          })),
        },
      };
    case 'changeset.verdict':
      if (event.verdict === 'approve') {
        return {
          type: 'changeset.approved',
          data: {
            call_id: event.changesetId,
            path: event.path,
            approver: actor.principal,
            ...(event.hunkIds ? { kept_hunks: event.hunkIds } : {}),
            ...(event.comment ? { comment: event.comment } : {}),
          },
        };
      }
      return {
        type: 'changeset.rejected',
        data: {
          call_id: event.changesetId,
          path: event.path,
          approver: actor.principal,
          ...(event.decision === 'requestChanges' ? { changes_requested: true } : {}),
          ...(event.comment ? { comment: event.comment } : {}),
          ...(event.lineComments ? { line_comments: event.lineComments.length } : {}),
          ...(detail.note ? { note: detail.note } : {}),
        },
      };
    case 'changeset.conflict':
      return { type: 'changeset.conflict', data: { call_id: event.changesetId, path: event.conflict.path, reason: event.conflict.reason } };
    default:
      return null;
  }
}

/** The audit trail of one task as a channel subscriber: every record stamped with who acts and the task. */
export function auditTrail(audit: AuditLog, actor: AuditActor, task: string): TrailSubscriber {
  return {
    async event(sessionId, event, detail) {
      const mapped = auditRecordFor(event, detail, actor);
      if (mapped) await audit.append({ type: mapped.type, session: sessionId, task, actor, data: mapped.data });
    },
    async fact(sessionId, fact) {
      await audit.append({ type: fact.type, session: sessionId, task, actor: fact.actor ?? actor, data: fact.data });
    },
  };
}
