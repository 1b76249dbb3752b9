/**
 * One model step of a turn as the Agents API shows it: the upstream call streamed into an assistant message
 * (`item.added` → `content_part.added` → `output_text.delta`… → `output_text.done` → `content_part.done` →
 * `item.done`), and the step's usage charged to the turn and the session. The turn's state machine is
 * src/runtime/turn-runner.ts; this file is what happens while the model speaks.
 */
import type OpenAI from 'openai';
import type { AgentSessionEvent } from 'openai/resources/beta/agents/agents';
import { newId, type RuntimeStore } from './store.js';
import { callModel, type ModelRequest, type ModelStep, type UpstreamConfig } from './upstream.js';
import { addUsage, type RuntimeItem, type StoredSession } from './wire.js';
import { costUsd, priceFor, type ModelPrice } from '../core/prices.js';

type OmitId<T> = T extends unknown ? Omit<T, 'event_id'> : never;
/** An event as the turn code writes it; the hub's writer gives it its id. */
export type EventBody = OmitId<AgentSessionEvent>;
export type MessageItem = Extract<RuntimeItem, { type: 'message' }>;

/** What a model without a known price is charged, in US dollars per million tokens. */
const DEFAULT_PRICE: ModelPrice = { inputPerMillion: 2.5, outputPerMillion: 10 };

/** The model call in flight for a session, so a cancel can abort it and close its half-written message. */
export interface ActiveCall {
  turnId: string;
  controller: AbortController;
  partial: { item: MessageItem & { id: string }; outputIndex: number; text: string } | null;
}

export interface TurnStreamDeps {
  store: RuntimeStore;
  upstream: UpstreamConfig;
  client: OpenAI;
  emit: (sessionId: string, body: EventBody) => void;
}

export class TurnStream {
  constructor(private readonly deps: TurnStreamDeps) {}

  /**
   * Calls the model once for `call`'s turn, streaming its text as the assistant message at `outputIndex`. The message
   * stays open (`call.partial`) until `closeMessage`: only the whole step says whether it was commentary or the answer.
   */
  step(sessionId: string, call: ActiveCall, request: ModelRequest, outputIndex: number): Promise<ModelStep> {
    const { client, upstream } = this.deps;
    return callModel(client, upstream, request, call.controller.signal, (delta) => this.textDelta(sessionId, call, outputIndex, delta));
  }

  /** Finishes the streamed assistant message: stored, and announced done with its full text. */
  closeMessage(sessionId: string, call: ActiveCall, phase: MessageItem['phase'], status: 'completed' | 'incomplete'): void {
    const { emit } = this.deps;
    const partial = call.partial;
    if (!partial) return;
    call.partial = null;
    const base = { session_id: sessionId, turn_id: call.turnId, output_index: partial.outputIndex, item_id: partial.item.id, content_index: 0 };
    const part = { type: 'output_text' as const, text: partial.text };
    emit(sessionId, { type: 'agent.session.turn.output_text.done', ...base, text: partial.text });
    emit(sessionId, { type: 'agent.session.turn.content_part.done', ...base, part });
    const item = { ...partial.item, content: [part], phase, status };
    this.deps.store.appendItem(sessionId, item);
    emit(sessionId, {
      type: 'agent.session.turn.item.done',
      session_id: sessionId,
      turn_id: call.turnId,
      output_index: partial.outputIndex,
      item: { ...item, role: 'assistant', id: item.id, content: [part] },
    });
  }

  /** Charges the step's tokens to the turn and the session, at the upstream's fixed price or the model's. */
  recordUsage(session: StoredSession, turnId: string, step: ModelStep): void {
    if (!step.usage) return;
    const { store, upstream } = this.deps;
    const fixed = upstream.pricing;
    const price: ModelPrice = fixed
      ? { inputPerMillion: fixed.inputCentsPerMillion / 100, outputPerMillion: fixed.outputCentsPerMillion / 100 }
      : (priceFor(session.model, upstream.prices) ?? DEFAULT_PRICE);
    const turn = store.getTurn(turnId)!;
    turn.usage = addUsage(turn.usage, step.usage);
    store.saveTurn(turn);
    session.usage = addUsage(session.usage, step.usage);
    session.spendCents += costUsd(step.usage, price) * 100;
    store.saveSession(session);
  }

  private textDelta(sessionId: string, call: ActiveCall, outputIndex: number, delta: string): void {
    if (call.controller.signal.aborted || delta === '') return;
    const { emit } = this.deps;
    const turnId = call.turnId;
    const base = { session_id: sessionId, turn_id: turnId, output_index: outputIndex };
    if (!call.partial) {
      const item: MessageItem & { id: string } = {
        id: newId('msg'),
        type: 'message',
        role: 'assistant',
        content: [],
        phase: null,
        status: 'in_progress',
        turn_id: turnId,
      };
      call.partial = { item, outputIndex, text: '' };
      emit(sessionId, { type: 'agent.session.turn.item.added', ...base, item });
      emit(sessionId, {
        type: 'agent.session.turn.content_part.added',
        ...base,
        item_id: item.id,
        content_index: 0,
        part: { type: 'output_text', text: '' },
      });
    }
    call.partial.text += delta;
    emit(sessionId, { type: 'agent.session.turn.output_text.delta', ...base, item_id: call.partial.item.id, content_index: 0, delta });
  }
}
