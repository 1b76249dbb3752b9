/**
 * The agent loop of one session turn, and every state change a turn goes through, each with the events the
 * Agents API promises: `turn.created` → `session.in_progress` → items and text deltas → either
 * `session.requires_action` (waiting for client tool results) or `turn.completed|failed|cancelled` followed by
 * `session.idle` (a failed turn too: its session keeps the error and goes on). All turn state lives in the store, so a turn waiting for tool results
 * survives a restart and continues when the results arrive. The model's streamed step is turn-runner-stream.ts; an
 * environment session's `exec_command` / `apply_patch` is turn-runner-environment.ts.
 */
import type OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import type { EventHub } from './event-hub.js';
import { newId, type RuntimeStore } from './store.js';
import { UpstreamError, type ModelStep, type UpstreamConfig } from './upstream.js';
import { ENVIRONMENT_TOOL_NAMES } from './codex-tools.js';
import type { EnvironmentBridge } from './environment-bridge.js';
import type { UserContent } from './validate.js';
import {
  nowSeconds,
  pendingCalls,
  sessionObject,
  turnObject,
  type RuntimeItem,
  type StoredSession,
  type StoredTurn,
  type TurnErrorCode,
  UPSTREAM_CALL_ID,
  upstreamCallId,
  wireItem,
} from './wire.js';
import { TurnStream, type ActiveCall, type EventBody, type MessageItem } from './turn-runner-stream.js';
import { runEnvironmentCall } from './turn-runner-environment.js';

type CallItem = Extract<RuntimeItem, { type: 'function_call' }>;

export interface TurnRunnerDeps {
  store: RuntimeStore;
  hub: EventHub;
  upstream: UpstreamConfig;
  client: OpenAI;
  log: (line: string) => void;
  /** The connected self-hosted environments, where `exec_command` and `apply_patch` run. */
  environments?: Pick<EnvironmentBridge, 'client'>;
}

export class TurnRunner {
  private readonly active = new Map<string, ActiveCall>();
  private readonly loops = new Set<Promise<void>>();
  private readonly stream: TurnStream;

  constructor(private readonly deps: TurnRunnerDeps) {
    const emit = (sessionId: string, body: EventBody) => this.emit(sessionId, body);
    this.stream = new TurnStream({ store: deps.store, upstream: deps.upstream, client: deps.client, emit });
  }

  emit(sessionId: string, body: EventBody): void {
    this.deps.hub.append(sessionId, { event_id: newId('event'), ...body } as AgentSessionEvent);
  }

  /** Starts a turn with the user's messages and runs the loop in the background. Call inside `hub.atomically`. */
  start(session: StoredSession, messages: UserContent[][]): void {
    const { store } = this.deps;
    const now = nowSeconds();
    const turn: StoredTurn = {
      id: newId('turn'),
      sessionId: session.id,
      createdAt: now,
      startedAt: null,
      completedAt: null,
      status: 'queued',
      error: null,
      usage: null,
    };
    store.insertTurn(turn);
    this.emit(session.id, { type: 'agent.session.turn.created', session_id: session.id, turn_id: turn.id, turn: turnObject(turn) });
    Object.assign(session, { status: 'in_progress', error: null, activeTurnId: turn.id, lastActiveAt: now });
    store.saveSession(session);
    this.emit(session.id, { type: 'agent.session.in_progress', session: sessionObject(session) });
    Object.assign(turn, { status: 'in_progress', startedAt: now });
    store.saveTurn(turn);
    this.emit(session.id, { type: 'agent.session.turn.in_progress', session_id: session.id, turn_id: turn.id, turn: turnObject(turn) });
    for (const content of messages) {
      const item: MessageItem & { id: string } = {
        id: newId('msg'),
        type: 'message',
        role: 'user',
        content,
        phase: null,
        status: 'completed',
        turn_id: turn.id,
      };
      store.appendItem(session.id, item);
      this.emit(session.id, { type: 'agent.session.turn.item.added', session_id: session.id, turn_id: turn.id, item, output_index: null });
    }
    this.launch(session.id, turn.id);
  }

  /** Records a client tool result; when it was the last one pending, the loop continues. Call inside `hub.atomically`. */
  acceptToolResult(
    session: StoredSession,
    result: { callId: string; success: boolean; output: string | UserContent[] | null; error: string | null },
  ): void {
    const { store } = this.deps;
    const action = pendingCalls(session.requiredActions).find((a) => a.call_id === result.callId)!;
    const turnId = action.turn_id;
    const upstreamId = upstreamCallId(this.callItem(session.id, result.callId, turnId));
    const item = {
      id: newId('fco'),
      type: 'function_call_output' as const,
      call_id: result.callId,
      ...(upstreamId !== result.callId ? { [UPSTREAM_CALL_ID]: upstreamId } : {}),
      output: result.success ? (result.output ?? '') : null,
      error: result.success ? null : (result.error ?? 'The tool call failed.'),
      status: result.success ? ('completed' as const) : ('failed' as const),
      turn_id: turnId,
    };
    store.appendItem(session.id, item);
    this.emit(session.id, { type: 'agent.session.turn.item.added', session_id: session.id, turn_id: turnId, item: wireItem(item), output_index: null });
    this.settleCallItems(session.id, [result.callId], item.status);
    session.requiredActions = session.requiredActions.filter((a) => a.type !== 'function_call' || a.call_id !== result.callId);
    session.lastActiveAt = nowSeconds();
    if (session.requiredActions.length > 0) {
      store.saveSession(session);
      return;
    }
    session.status = 'in_progress';
    store.saveSession(session);
    const turn = store.getTurn(turnId)!;
    turn.status = 'in_progress';
    store.saveTurn(turn);
    this.emit(session.id, { type: 'agent.session.in_progress', session: sessionObject(session) });
    this.emit(session.id, { type: 'agent.session.turn.in_progress', session_id: session.id, turn_id: turnId, turn: turnObject(turn) });
    this.launch(session.id, turnId);
  }

  /** Cancels the active turn, if any: aborts the model call, closes open items. Call inside `hub.atomically`. */
  cancel(session: StoredSession): void {
    if (!session.activeTurnId) return;
    this.finish(session, 'cancelled', null);
  }

  /** Fails the active turn with a message the user can act on. Call inside `hub.atomically`. */
  fail(session: StoredSession, code: TurnErrorCode, message: string): void {
    if (!session.activeTurnId) return;
    this.finish(session, 'failed', { code, message });
  }

  /** Aborts every model call in flight and waits for the loops to notice. */
  async stop(): Promise<void> {
    for (const call of this.active.values()) call.controller.abort();
    await Promise.allSettled([...this.loops]);
  }

  private launch(sessionId: string, turnId: string): void {
    const loop = this.loop(sessionId, turnId).catch((err) => this.deps.log(`runtime: turn ${turnId} loop crashed: ${String(err)}`));
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private async loop(sessionId: string, turnId: string): Promise<void> {
    const { store, hub } = this.deps;
    const call: ActiveCall = { turnId, controller: new AbortController(), partial: null };
    this.active.set(sessionId, call);
    try {
      for (;;) {
        const session = store.getSession(sessionId);
        if (!session || session.activeTurnId !== turnId || session.status !== 'in_progress') return;
        if (budgetExhausted(session)) {
          hub.atomically(() => this.fail(session, 'session_budget_exceeded', budgetMessage(session)));
          return;
        }
        if (session.environment && !this.deps.environments?.client(session.environment.id)) {
          // As BMA does: the turn waits, with an environment_connection action, until the environment connects.
          hub.atomically(() => this.requireEnvironment(session, turnId));
          return;
        }
        const history = store.allItems(sessionId);
        let outputIndex = history.filter((i) => i.turn_id === turnId && i.type !== 'function_call_output' && !(i.type === 'message' && i.role === 'user')).length;
        let step: ModelStep;
        try {
          step = await this.stream.step(
            sessionId,
            call,
            { model: session.model, instructions: session.instructions, tools: session.tools, history, environment: !!session.environment },
            outputIndex,
          );
        } catch (err) {
          if (call.controller.signal.aborted) return;
          const code = err instanceof UpstreamError ? err.code : 'internal_error';
          const message = err instanceof Error ? err.message : String(err);
          this.deps.log(`runtime: turn ${turnId} failed: ${message}`);
          const current = store.getSession(sessionId);
          if (current && current.activeTurnId === turnId) hub.atomically(() => this.fail(current, code, message));
          return;
        }
        if (call.controller.signal.aborted) return;
        const environment = session.environment ?? null;
        const envCalls = environment ? step.toolCalls.filter((c) => ENVIRONMENT_TOOL_NAMES.includes(c.name)) : [];
        const clientCalls = step.toolCalls.filter((c) => !envCalls.includes(c));
        const done = hub.atomically(() => {
          const current = store.getSession(sessionId);
          if (!current || current.activeTurnId !== turnId) return true;
          if (call.partial) {
            this.stream.closeMessage(sessionId, call, step.toolCalls.length > 0 ? 'commentary' : 'final_answer', 'completed');
            outputIndex++;
          }
          this.stream.recordUsage(current, turnId, step);
          if (step.toolCalls.length === 0) {
            this.finish(current, 'completed', null);
            return true;
          }
          if (budgetExhausted(current)) {
            this.fail(current, 'session_budget_exceeded', budgetMessage(current));
            return true;
          }
          if (envCalls.length > 0) return false;
          this.requireActions(current, turnId, step, outputIndex);
          return true;
        });
        if (done) return;
        for (const envCall of envCalls) {
          if (!(await runEnvironmentCall(this.environmentDeps(), sessionId, call, environment!, envCall, outputIndex++))) return;
        }
        if (clientCalls.length > 0) {
          hub.atomically(() => {
            const current = store.getSession(sessionId);
            if (current && current.activeTurnId === turnId) this.requireActions(current, turnId, { ...step, toolCalls: clientCalls }, outputIndex);
          });
          return;
        }
      }
    } finally {
      if (this.active.get(sessionId) === call) this.active.delete(sessionId);
    }
  }

  /** The session's environment connected: a turn waiting for it goes on. */
  environmentConnected(sessionId: string): void {
    this.deps.hub.atomically(() => {
      const session = this.deps.store.getSession(sessionId);
      if (!session?.activeTurnId || !session.requiredActions.some((a) => a.type === 'environment_connection')) return;
      const turnId = session.activeTurnId;
      session.requiredActions = session.requiredActions.filter((a) => a.type !== 'environment_connection');
      session.status = 'in_progress';
      session.lastActiveAt = nowSeconds();
      this.deps.store.saveSession(session);
      const turn = this.deps.store.getTurn(turnId)!;
      turn.status = 'in_progress';
      this.deps.store.saveTurn(turn);
      this.emit(session.id, { type: 'agent.session.in_progress', session: sessionObject(session) });
      this.emit(session.id, { type: 'agent.session.turn.in_progress', session_id: session.id, turn_id: turnId, turn: turnObject(turn) });
      this.launch(session.id, turnId);
    });
  }

  private environmentDeps() {
    const { store, hub, environments } = this.deps;
    return { store, hub, environments, emit: (sessionId: string, body: EventBody) => this.emit(sessionId, body) };
  }

  private requireEnvironment(session: StoredSession, turnId: string): void {
    const { store } = this.deps;
    session.requiredActions = [{ type: 'environment_connection', environment_id: session.environment!.id }];
    session.status = 'requires_action';
    session.lastActiveAt = nowSeconds();
    store.saveSession(session);
    const turn = store.getTurn(turnId)!;
    turn.status = 'waiting';
    store.saveTurn(turn);
    this.emit(session.id, { type: 'agent.session.requires_action', session: sessionObject(session) });
  }

  /**
   * Makes the model's function calls the session's required actions. The actions are stored before the
   * `item.added` events go out: a client that answers a call on seeing its item must find it pending.
   */
  private requireActions(session: StoredSession, turnId: string, step: ModelStep, firstIndex: number): void {
    const { store } = this.deps;
    // Call ids the client sees are unique in the session: some OpenAI-compatible servers reuse ids across steps,
    // and a client keyed on them would take a new call for one it already answered. The model's own id is kept
    // beside it for the upstream conversation (some servers accept only ids in their own format).
    const used = new Set(
      store.allItems(session.id).flatMap((i) => (i.type === 'function_call' ? [i.call_id] : [])),
    );
    const items: { item: CallItem & { id: string }; index: number }[] = step.toolCalls.map((c, i) => {
      const callId = used.has(c.callId) ? newId('call') : c.callId;
      used.add(callId);
      return {
        item: {
          id: newId('fc'),
          type: 'function_call',
          call_id: callId,
          ...(callId !== c.callId ? { [UPSTREAM_CALL_ID]: c.callId } : {}),
          name: c.name,
          arguments: c.arguments,
          status: 'in_progress',
          turn_id: turnId,
        },
        index: firstIndex + i,
      };
    });
    for (const { item } of items) store.appendItem(session.id, item);
    session.requiredActions = items.map(({ item }) => ({
      type: 'function_call',
      call_id: item.call_id,
      name: item.name,
      arguments: item.arguments,
      turn_id: turnId,
    }));
    session.status = 'requires_action';
    session.lastActiveAt = nowSeconds();
    store.saveSession(session);
    const turn = store.getTurn(turnId)!;
    turn.status = 'waiting';
    store.saveTurn(turn);
    for (const { item, index } of items) {
      this.emit(session.id, { type: 'agent.session.turn.item.added', session_id: session.id, turn_id: turnId, item: wireItem(item), output_index: index });
    }
    this.emit(session.id, { type: 'agent.session.requires_action', session: sessionObject(session) });
  }

  private callItem(sessionId: string, callId: string, turnId: string): CallItem | undefined {
    return this.deps.store
      .allItems(sessionId)
      .find((i): i is CallItem => i.type === 'function_call' && i.call_id === callId && i.turn_id === turnId);
  }

  private settleCallItems(sessionId: string, callIds: string[], status: CallItem['status']): void {
    const { store } = this.deps;
    for (const item of store.allItems(sessionId)) {
      if (item.type === 'function_call' && callIds.includes(item.call_id) && item.status === 'in_progress') {
        store.saveItem({ ...item, id: item.id, status });
      }
    }
  }

  private finish(session: StoredSession, status: 'completed' | 'failed' | 'cancelled', error: StoredTurn['error']): void {
    const { store } = this.deps;
    const turnId = session.activeTurnId!;
    const call = this.active.get(session.id);
    if (call && call.turnId === turnId) {
      if (status !== 'completed') call.controller.abort();
      this.stream.closeMessage(session.id, call, null, 'incomplete');
    }
    this.settleCallItems(
      session.id,
      pendingCalls(session.requiredActions).map((a) => a.call_id),
      'incomplete',
    );
    const now = nowSeconds();
    const turn = store.getTurn(turnId)!;
    Object.assign(turn, { status, error, completedAt: now, startedAt: turn.startedAt ?? now });
    store.saveTurn(turn);
    // A failed turn does not fail the session: it goes back to idle (its `error` says why the turn failed), so the
    // next message, or the openai package's `sessions.stream` helper, can go on with it.
    Object.assign(session, {
      status: 'idle',
      error: error ? error.message : null,
      activeTurnId: null,
      requiredActions: [],
      lastActiveAt: now,
    });
    store.saveSession(session);
    const base = { session_id: session.id, turn_id: turnId, turn: turnObject(turn), usage: turn.usage };
    if (status === 'completed') this.emit(session.id, { type: 'agent.session.turn.completed', ...base });
    else if (status === 'cancelled') this.emit(session.id, { type: 'agent.session.turn.cancelled', ...base });
    else this.emit(session.id, { type: 'agent.session.turn.failed', ...base });
    this.emit(session.id, { type: 'agent.session.idle', session: sessionObject(session) });
  }
}

function budgetExhausted(s: StoredSession): boolean {
  return s.spendLimit !== null && s.spendCents >= s.spendLimit;
}

function budgetMessage(s: StoredSession): string {
  return (
    `This session reached its spend limit: ${Math.floor(s.spendCents)} of ${s.spendLimit} US cents used, so the runtime stopped the turn. ` +
    'Raise spend_control.limit with sessions.update, or start a new session.'
  );
}
