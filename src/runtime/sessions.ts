/**
 * The session service behind the HTTP routes: ownership, create/retrieve/list/update/delete, and input events
 * (messages, tool results, cancel) with idempotency. A batch of input events is checked whole before any of it
 * applies, and applies in one transaction, so a rejected request changes nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EventHub } from './event-hub.js';
import { ApiError, invalid } from './http-util.js';
import { newId, type Page, type PageQuery, type RuntimeStore } from './store.js';
import type { TurnRunner } from './turn-runner.js';
import type { CreateSessionInput, InputEvent, SelfHostedEnvironmentInput, UpdateSessionInput } from './validate.js';
import { environmentState, nowSeconds, pendingCalls, sessionObject, wireItem, type RuntimeItem, type StoredEnvironment, type StoredSession } from './wire.js';
import { environmentRemoteUrl } from './environment-routes.js';
import type { EnvironmentBridge } from './environment-bridge.js';

export const INTERRUPTED_MESSAGE =
  'The Deputy runtime stopped while this turn was running, so the turn did not finish. Send the message again to retry.';

export class SessionService {
  constructor(
    private readonly store: RuntimeStore,
    private readonly hub: EventHub,
    private readonly runner: TurnRunner,
    private readonly defaultModel: string,
    /** Where environments reach this runtime (`remote_url` is built on it); known once the server listens. */
    private readonly environmentBase: () => string = () => '',
    /** Retention: a deleted session's rows stay in the store, hidden. Off by default: delete removes them. */
    private readonly keepDeleted = false,
    /** The live environment connections, closed with their session. */
    private readonly environments?: EnvironmentBridge,
  ) {}

  /**
   * After a restart: a turn that was mid model call cannot resume, so it fails; waiting turns stay waiting.
   * Only the store's owner calls this (store-lock.ts), so every turn still in progress belongs to no live process.
   */
  recover(): number {
    const interrupted = this.store.sessionsWithStatus('in_progress');
    for (const session of interrupted) {
      this.hub.atomically(() => this.runner.fail(session, 'internal_error', INTERRUPTED_MESSAGE));
    }
    return interrupted.length;
  }

  create(principal: string, input: CreateSessionInput): StoredSession {
    const now = nowSeconds();
    const id = newId('sess');
    const session: StoredSession = {
      id,
      principal,
      createdAt: now,
      lastActiveAt: now,
      status: 'idle',
      error: null,
      model: input.model ?? this.defaultModel,
      instructions: input.instructions,
      tools: input.tools,
      metadata: input.metadata,
      spendLimit: input.spendLimit,
      spendCents: 0,
      usage: null,
      requiredActions: [],
      activeTurnId: null,
      environment: input.environment ? newEnvironment(input.environment, this.environmentBase(), id) : null,
    };
    this.hub.atomically(() => {
      this.store.insertSession(session);
      this.runner.emit(session.id, { type: 'agent.session.created', session: sessionObject(session) });
      if (session.environment) {
        this.runner.emit(session.id, {
          type: 'agent.session.environment.pending',
          session_id: session.id,
          turn_id: null,
          environment: environmentState(session.environment),
        });
      }
      if (input.input) this.runner.start(session, input.input);
    });
    return session;
  }

  /** The caller's session; another principal's session is indistinguishable from a missing one. */
  get(principal: string, id: string): StoredSession {
    const session = this.store.getSession(id);
    if (!session || session.principal !== principal) {
      throw new ApiError(404, `No session found with id '${id}'.`, 'session_not_found', 'session_id');
    }
    return session;
  }

  list(principal: string, query: PageQuery, metadata: Record<string, string>): Page<StoredSession> {
    return this.store.listSessions(principal, query, metadata);
  }

  items(principal: string, id: string, query: PageQuery): Page<RuntimeItem> {
    this.get(principal, id);
    const page = this.store.listItems(id, query);
    return { ...page, data: page.data.map(wireItem) };
  }

  update(principal: string, id: string, input: UpdateSessionInput): StoredSession {
    return this.hub.atomically(() => {
      const session = this.get(principal, id);
      if (input.model !== undefined) session.model = input.model;
      if (input.instructions !== undefined) session.instructions = input.instructions;
      if (input.tools !== undefined) session.tools = input.tools;
      if (input.metadata !== undefined) session.metadata = input.metadata;
      if (input.spendLimit !== undefined) session.spendLimit = input.spendLimit;
      this.store.saveSession(session);
      return session;
    });
  }

  delete(principal: string, id: string): void {
    const environmentId = this.hub.atomically(() => {
      const session = this.get(principal, id);
      this.runner.cancel(session);
      this.store.deleteSession(id, this.keepDeleted);
      return session.environment?.id;
    });
    // A deleted session's environment has nothing left to serve: its connection ends, and it cannot register again.
    if (environmentId) this.environments?.close(environmentId);
    this.hub.end(id);
  }

  /**
   * Applies input events. With an idempotency key already used for the same request on this session, nothing
   * happens (the earlier acceptance stands); the same key with a different request is a 409.
   */
  submit(principal: string, id: string, events: InputEvent[], idempotencyKey: string | null): void {
    const requestHash = createHash('sha256').update(JSON.stringify(events)).digest('hex');
    this.hub.atomically(() => {
      const session = this.get(principal, id);
      if (idempotencyKey !== null) {
        const seen = this.store.idempotentRequest(id, idempotencyKey);
        if (seen === requestHash) return;
        if (seen !== null) {
          throw new ApiError(
            409,
            `The Idempotency-Key '${idempotencyKey}' was already used on this session for a different request. Use a new key for a new request.`,
            'idempotency_key_reused',
            'Idempotency-Key',
          );
        }
      }
      check(session, events);
      for (const event of events) {
        const current = this.store.getSession(id)!;
        if (event.type === 'agent.session.input.message') this.runner.start(current, event.messages);
        else if (event.type === 'agent.session.input.cancel') this.runner.cancel(current);
        else this.runner.acceptToolResult(current, event);
      }
      if (idempotencyKey !== null) this.store.rememberIdempotent(id, idempotencyKey, requestHash);
    });
  }
}

function newEnvironment(input: SelfHostedEnvironmentInput, base: string, sessionId: string): StoredEnvironment {
  const secret = randomBytes(32).toString('base64url');
  return {
    id: newId('env'),
    workspaceDirectory: input.workspaceDirectory,
    capabilityDirectories: input.capabilityDirectories,
    secret,
    remoteUrl: environmentRemoteUrl(base, sessionId, secret),
    status: 'pending',
  };
}

/** Walks the batch against a copy of the session's state, so every event is checked before any applies. */
function check(session: StoredSession, events: InputEvent[]): void {
  let busy = session.activeTurnId !== null;
  let pending = new Map(pendingCalls(session.requiredActions).map((a) => [a.call_id, a.turn_id]));
  events.forEach((event, i) => {
    switch (event.type) {
      case 'agent.session.input.message':
        if (busy) {
          throw new ApiError(
            409,
            `Session ${session.id} is ${pending.size > 0 ? 'waiting for tool results' : 'running a turn'}; send input when it is idle, or cancel the turn first (agent.session.input.cancel).`,
            'active_turn_not_steerable',
            `events[${i}]`,
          );
        }
        busy = true;
        break;
      case 'agent.session.input.cancel':
        busy = false;
        pending = new Map();
        break;
      case 'agent.session.input.tool_result':
        if (pending.get(event.callId) !== event.turnId) {
          // The `openai` helper retries exactly this message and code while a call is still being registered.
          throw invalid(`Unknown pending tool call: ${event.callId}`, `events[${i}].call_id`, 'invalid_request_error');
        }
        pending.delete(event.callId);
        break;
    }
  });
}
