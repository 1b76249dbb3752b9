/**
 * What a hosted session has used and spent, reported on its event channel: the running totals the panel shows (a
 * `usage` event, priced when the model's price is known), each turn's share on the trail (readers of the trail sum
 * usage records, so each turn records only what came after the last one), and the budget meter's moves as `budget`
 * events.
 */
import type { AgentSession } from 'openai/resources/beta/agents/agents';
import type { BudgetEvent, BudgetMeter } from '../core/budget.js';
import type { EngineEvents } from '../core/event-channel.js';
import { costUsd, type ModelPrice } from '../core/prices.js';
import type { EventInput } from './event-log.js';

interface Counts {
  input: number;
  output: number;
  cached: number;
  total: number;
}

export class SessionUsage {
  /** The session's cost so far in USD, when it can be known (a priced model, or the endpoint's spend control). */
  costUsd: number | undefined;
  /** Usage already on the audit trail. */
  private recorded: Counts;

  constructor(
    private readonly events: EngineEvents,
    private readonly price: ModelPrice | undefined,
    session: AgentSession,
  ) {
    // A session found at the endpoint has its earlier turns' usage on the trail already.
    this.recorded = counts(session);
  }

  /** The session's totals as the endpoint reports them, for the panel (no record: the trail has each turn's share). */
  show(s: AgentSession, budget: BudgetMeter): void {
    const u = s.usage;
    const consumed = s.spend_control?.consumed;
    if (u && this.price) this.costUsd = costUsd(u, this.price);
    else if (typeof consumed === 'number') this.costUsd = consumed / 100;
    if (!u && this.costUsd === undefined) return;
    const task = budget.limit('task');
    void this.events.emit(s.id, {
      type: 'usage',
      inputTokens: u?.input_tokens ?? 0,
      outputTokens: u?.output_tokens ?? 0,
      totalTokens: u?.total_tokens ?? 0,
      ...(this.costUsd !== undefined ? { costUsd: this.costUsd } : {}),
      ...(task?.unit === 'usd' ? { budgetUsd: task.amount } : {}),
    });
  }

  /** The turn's usage on the trail: what the session used since the last record, priced when the price is known. */
  async record(s: AgentSession, turnKey: string): Promise<void> {
    const now = counts(s);
    const d = { input: Math.max(0, now.input - this.recorded.input), output: Math.max(0, now.output - this.recorded.output), cached: Math.max(0, now.cached - this.recorded.cached) };
    this.recorded = now;
    const cost = this.price ? costUsd({ input_tokens: d.input, output_tokens: d.output, input_tokens_details: { cached_tokens: d.cached } }, this.price) : undefined;
    await this.events.record(s.id, {
      type: 'usage',
      data: {
        input_tokens: d.input,
        output_tokens: d.output,
        total_tokens: d.input + d.output,
        ...(d.cached ? { cached_input_tokens: d.cached } : {}),
        ...(s.agent?.model ? { model: s.agent.model } : {}),
        ...(cost !== undefined ? { cost_usd: cost } : {}),
        // Marks the record as this turn's share (older editor records held the session's running total).
        turn: turnKey,
      },
    });
  }
}

/** The meter, its warning and its stop as the session's events; the stop's error comes with the turn's end. */
export function budgetEventOf(e: BudgetEvent, budget: BudgetMeter): EventInput {
  if (e.kind === 'meter') return { type: 'budget', meters: e.states };
  if (e.kind === 'unmeasured') return { type: 'notice', message: e.message };
  return { type: 'budget', meters: budget.states(), change: e.kind, message: e.message };
}

function counts(s: AgentSession): Counts {
  const u = s.usage;
  return { input: u?.input_tokens ?? 0, output: u?.output_tokens ?? 0, cached: u?.input_tokens_details?.cached_tokens ?? 0, total: u?.total_tokens ?? 0 };
}
