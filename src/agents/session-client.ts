/**
 * The engine's one way to talk to an Agents API endpoint about sessions: create one, send a message, submit a
 * tool result, cancel the turn, read and list sessions, and follow the event stream (resuming after a drop). The
 * `openai` client underneath is whichever endpoint the caller connected to (Deputy's runtime, OpenAI, Bedrock);
 * nothing else in `src/core` or `src/server` calls its sessions API. Failures are classified by status, code and
 * type (`api-errors.ts`), never by their text.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import type { AgentSession, AgentSessionEvent, AgentSessionItem } from 'openai/resources/beta/agents/agents';
import type { SessionCreateParamsNonStreaming, SessionListParams } from 'openai/resources/beta/agents/sessions/sessions';
import { classifyApiError } from './api-errors.js';
import { followSession, type FollowOptions } from './event-stream.js';

type Sessions = OpenAI['beta']['agents']['sessions'];
export type SessionCreateParams = SessionCreateParamsNonStreaming;
export type SessionInputEvent = Parameters<Sessions['events']['create']>[1]['events'][number];
export type ToolResultEvent = Extract<SessionInputEvent, { type: 'agent.session.input.tool_result' }>;
export type SessionListFilter = SessionListParams;

/** How long to wait, attempt by attempt, for the service to register a call before its result is accepted (as the official helper does). */
const REGISTRATION_DELAYS_MS = [100, 300, 600];

export class AgentSessionClient {
  constructor(readonly openai: OpenAI) {}

  private get sessions(): Sessions {
    return this.openai.beta.agents.sessions;
  }

  create(params: SessionCreateParams, signal?: AbortSignal): Promise<AgentSession> {
    return this.sessions.create(params, signal ? { signal } : undefined);
  }

  retrieve(sessionId: string): Promise<AgentSession> {
    return this.sessions.retrieve(sessionId);
  }

  /** Moves the endpoint's own spend limit of the session (`spend_control.limit`, US cents); a person's raise. */
  setSpendLimit(sessionId: string, cents: number): Promise<AgentSession> {
    return this.sessions.update(sessionId, { spend_control: { limit: cents } });
  }

  /** Sessions matching `filter`, page after page, up to `max`. */
  async list(filter: SessionListFilter, max: number): Promise<AgentSession[]> {
    const found: AgentSession[] = [];
    for await (const s of this.sessions.list(filter)) {
      found.push(s);
      if (found.length >= max) break;
    }
    return found;
  }

  /** The session's durable items, oldest first, page after page. */
  async *items(sessionId: string): AsyncGenerator<AgentSessionItem> {
    yield* this.sessions.items.list(sessionId, { limit: 100, order: 'asc' });
  }

  /** Sends a person's message; `idempotencyKey` makes a retried send count once. */
  async send(sessionId: string, text: string, idempotencyKey: string): Promise<void> {
    await this.sessions.events.create(sessionId, {
      events: [{ type: 'agent.session.input.message', input: [{ role: 'user', content: [{ type: 'input_text', text }] }] }],
      'Idempotency-Key': idempotencyKey,
    });
  }

  /** Asks the endpoint to cancel the turn under way. */
  async cancel(sessionId: string, idempotencyKey: string): Promise<void> {
    await this.sessions.events.create(sessionId, { events: [{ type: 'agent.session.input.cancel' }], 'Idempotency-Key': idempotencyKey });
  }

  /** Sends input events as one request (e.g. denies for pending approvals together with a cancel). */
  async sendEvents(sessionId: string, events: SessionInputEvent[], idempotencyKey?: string): Promise<void> {
    await this.sessions.events.create(sessionId, { events, ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}) });
  }

  /**
   * Submits a tool result. A call announced on the stream may not be registered as pending yet when its result
   * arrives; the service then says so (`callNotRegistered`) and the result is sent again after a short wait.
   */
  async submitToolResult(sessionId: string, result: ToolResultEvent, idempotencyKey: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sessions.events.create(sessionId, { events: [result], 'Idempotency-Key': idempotencyKey });
        return;
      } catch (err) {
        const delay = REGISTRATION_DELAYS_MS[attempt];
        if (delay === undefined || classifyApiError(err).kind !== 'callNotRegistered') throw err;
        await sleep(delay);
      }
    }
  }

  /** The session's events as they happen, across reconnects (resuming from the last event seen). */
  follow(sessionId: string, options: FollowOptions = {}): { opened: Promise<void>; events: AsyncGenerator<AgentSessionEvent> } {
    return followSession(this.openai, sessionId, options);
  }
}

const clients = new WeakMap<OpenAI, AgentSessionClient>();

/** The session client over an `openai` client (one per client, so callers need not pass both around). */
export function agentSessions(openai: OpenAI): AgentSessionClient {
  let c = clients.get(openai);
  if (!c) clients.set(openai, (c = new AgentSessionClient(openai)));
  return c;
}
