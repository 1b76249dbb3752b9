/**
 * The engine's one reporting channel (issue 7 §1). Everything the engine does goes out here once, as an engine event
 * (`src/protocol/events.ts`), and every consumer hears it from here: the audit trail (which keeps the record the
 * event maps to, `audit-events.ts`), the CLI's renderer, the language server's session (which relays to the panel).
 * Facts only the trail keeps (the policy's verdict, a task's start and end, an applied file's hashes) go through
 * `record`, still here, so the engine has no second path to the trail.
 *
 * Two kinds of subscriber, because they fail differently:
 * - A trail is awaited: `emit` resolves once every trail has the event, so the engine acts only on a fact that is
 *   on disk (a decision is recorded before the tool runs, DESIGN.md §5). A trail that fails fails the emit: the
 *   engine stops rather than act unrecorded.
 * - A listener (a front end) hears the event synchronously and can never hurt the engine: whatever it throws (or
 *   rejects) is reported to `onListenerError` and the next subscriber still hears the event.
 */
import type { EngineEventInput } from '../protocol/events.js';
import type { AuditActor, AuditLog } from './audit.js';
import { auditTrail, type EventDetail, type TrailFact } from './audit-events.js';

/** A front end: sees each event as it is emitted, with the engine-side detail behind it (never to be sent on). */
export type EventListener = (sessionId: string, event: EngineEventInput, detail: EventDetail) => void;

/** A durable subscriber: the engine waits until it has each event and each trail-only fact. */
export interface TrailSubscriber {
  event(sessionId: string, event: EngineEventInput, detail: EventDetail): Promise<void>;
  /** `sessionId` is null before the endpoint's session exists (a task's start). */
  fact(sessionId: string | null, fact: TrailFact): Promise<void>;
}

export interface EngineEventsOptions {
  /** A listener threw or rejected; the engine went on. Defaults to ignoring it. */
  onListenerError?: (err: unknown, event: EngineEventInput) => void;
}

export class EngineEvents {
  private readonly listeners = new Set<EventListener>();
  private readonly trails = new Set<TrailSubscriber>();

  constructor(private readonly options: EngineEventsOptions = {}) {}

  /** A channel whose trail is `audit`, every record stamped with who acts and the task. */
  static forTask(audit: AuditLog, actor: AuditActor, task: string, options: EngineEventsOptions = {}): EngineEvents {
    const events = new EngineEvents(options);
    events.keep(auditTrail(audit, actor, task));
    return events;
  }

  /** Adds a front end; returns the function that removes it. */
  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds a durable subscriber (the audit trail); returns the function that removes it. */
  keep(trail: TrailSubscriber): () => void {
    this.trails.add(trail);
    return () => this.trails.delete(trail);
  }

  /**
   * Reports `event` of session `sessionId`. Listeners hear it before this returns; the promise resolves once every
   * trail has it. An event without a record (a text delta, a status) resolves without touching the disk, so the
   * engine may `void` it; one with a record must be awaited.
   */
  emit(sessionId: string, event: EngineEventInput, detail: EventDetail = {}): Promise<void> {
    for (const listener of this.listeners) {
      try {
        const result: unknown = listener(sessionId, event, detail);
        // A listener written as async still must not reject into nowhere.
        if (result instanceof Promise) result.catch((err: unknown) => this.listenerFailed(err, event));
      } catch (err) {
        this.listenerFailed(err, event);
      }
    }
    if (this.trails.size === 0) return Promise.resolve();
    return this.all((trail) => trail.event(sessionId, event, detail));
  }

  /** A fact only the trail keeps; resolves once every trail has it. */
  record(sessionId: string | null, fact: TrailFact): Promise<void> {
    return this.all((trail) => trail.fact(sessionId, fact));
  }

  private async all(send: (trail: TrailSubscriber) => Promise<void>): Promise<void> {
    // One after another: a trail's records keep the engine's order.
    for (const trail of this.trails) await send(trail);
  }

  private listenerFailed(err: unknown, event: EngineEventInput): void {
    try {
      this.options.onListenerError?.(err, event);
    } catch {
      // Reporting a front end's failure must not become the engine's failure either.
    }
  }
}
