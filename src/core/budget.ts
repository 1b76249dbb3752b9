/**
 * Budgets, enforced by the engine whatever the endpoint does: a limit per task (one session, every turn of it) and
 * per day (every session of this person on this machine, `day-spend.ts`), in US dollars where the model's price is
 * known (`prices.ts`, or the endpoint's own `spend_control.consumed`) and in tokens otherwise.
 *
 * The turn loop calls `observe` with each session state the endpoint reports (its cumulative usage) and `check`
 * before it sends more work (a tool result, a new message). At 80% of a limit the meter warns, once; at 100% it
 * reports the limit reached, and the loop cancels the turn and sends nothing more. Only `raise` moves a limit, and
 * only a front end calls it, on a person's gesture (a panel button, a command, an answer on the terminal): nothing
 * the agent sends reaches this module. Warnings, stops and raises go on the audit trail.
 */
import type { AuditActor } from './audit.js';
import type { EngineEvents } from './event-channel.js';
import type { DaySpendLedger, Spend } from './day-spend.js';
import { BudgetParseError, budgetInputError, formatAmount, parseBudget, type BudgetLimit, type BudgetUnit } from './budget-text.js';
import { costUsd, tokensOf, type ModelPrice, type UsageLike } from './prices.js';

export type BudgetScope = 'task' | 'day';
export { BudgetParseError, budgetInputError, formatAmount, parseBudget, type BudgetLimit, type BudgetUnit };

/** Where one limit stands: `spent` and `limit` in its unit. */
export interface BudgetState {
  scope: BudgetScope;
  unit: BudgetUnit;
  spent: number;
  limit: number;
}

export interface BudgetReached extends BudgetState {
  message: string;
}

export type BudgetEvent =
  | { kind: 'meter'; states: BudgetState[] }
  | { kind: 'warning'; state: BudgetState; message: string }
  | { kind: 'reached'; state: BudgetState; message: string }
  | { kind: 'raised'; scope: BudgetScope; from: BudgetLimit | null; to: BudgetLimit; by: string; message: string }
  /** A limit this meter cannot measure (a dollar budget for a model without a known price): only the endpoint holds it. */
  | { kind: 'unmeasured'; scope: BudgetScope; message: string };

/** At this fraction of a limit the person is warned (once per limit). */
export const WARN_AT = 0.8;




const SCOPE_WORDS: Record<BudgetScope, string> = { task: "this task's", day: "today's" };

export interface BudgetMeterOptions {
  /** The session (or task) this meter counts: its key in the day's ledger. */
  key: string;
  perTask?: BudgetLimit;
  perDay?: BudgetLimit;
  /** The model's price; without it dollars come from the endpoint's `spend_control.consumed`, when it reports one. */
  price?: ModelPrice;
  ledger?: DaySpendLedger;
  /** The task's event channel: warnings, stops and raises go on its trail, under `session` once it exists. */
  trail?: { events: EngineEvents; session?: string };
  onEvent?: (event: BudgetEvent) => void;
}

/** What an endpoint reports of a session: its cumulative usage, and its own spend meter when it has one. */
export interface SessionSpend {
  usage?: UsageLike | null;
  spend_control?: { consumed?: number | null } | null;
}

export class BudgetMeter {
  private limits: Partial<Record<BudgetScope, BudgetLimit>>;
  private session: Spend;
  /** What the session had spent when the local day last changed: today's share is what came after. */
  private dayBase: { day: string; spend: Spend } | null = null;
  private day: { spent: Required<Spend> & { usdKnown: boolean }; limit: BudgetLimit | undefined } | null = null;
  private readonly warned = new Set<BudgetScope>();
  private readonly unmeasuredSaid = new Set<BudgetScope>();
  private hit: BudgetReached | undefined;
  private readonly listeners = new Set<(reached: BudgetReached) => void>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: BudgetMeterOptions) {
    this.limits = { ...(options.perTask ? { task: options.perTask } : {}), ...(options.perDay ? { day: options.perDay } : {}) };
    // Nothing spent yet is $0 when the price is known (and unknown in dollars otherwise).
    this.session = { tokens: 0, ...(options.price ? { usd: 0 } : {}) };
  }

  get active(): boolean {
    return this.limits.task !== undefined || this.limits.day !== undefined;
  }

  limit(scope: BudgetScope): BudgetLimit | undefined {
    return scope === 'day' ? (this.day?.limit ?? this.limits.day) : this.limits.task;
  }

  /** The limit reached, once one is (until a person raises it). */
  reached(): BudgetReached | undefined {
    return this.hit;
  }

  onReached(listener: (reached: BudgetReached) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes the session's cumulative spend (omit it to re-read only the day's ledger, before sending work) and says
   * whether a limit is reached. Calls run one after another so the ledger sees them in order.
   */
  observe(session?: SessionSpend): Promise<BudgetReached | undefined> {
    const run = this.queue.then(() => this.update(session));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Before sending work: the day may have been spent by another session since the last usage report. */
  check(): Promise<BudgetReached | undefined> {
    return this.observe();
  }

  /** Where each limit stands now. */
  states(): BudgetState[] {
    const out: BudgetState[] = [];
    for (const scope of ['task', 'day'] as const) {
      const limit = this.limit(scope);
      const spent = limit && this.spent(scope, limit.unit);
      if (limit && spent !== undefined) out.push({ scope, unit: limit.unit, spent, limit: limit.amount });
    }
    return out;
  }

  /**
   * A person moved a limit (raised it, usually): recorded with who did it, and the meter starts over for that limit
   * (a stop is lifted when the new limit is above what was spent; the warning comes again at 80% of it).
   */
  async raise(scope: BudgetScope, to: BudgetLimit, by: AuditActor): Promise<void> {
    await this.queue;
    const from = this.limit(scope) ?? null;
    if (scope === 'task') this.limits.task = to;
    else {
      this.limits.day = to;
      if (this.options.ledger) await this.options.ledger.raise(this.options.ledger.today(), { ...to, by: by.principal, at: new Date().toISOString() });
      if (this.day) this.day.limit = to;
    }
    this.warned.delete(scope);
    if (this.hit?.scope === scope) this.hit = undefined;
    const message = `${by.principal} set ${SCOPE_WORDS[scope]} budget to ${formatAmount(to.unit, to.amount)}${from ? ` (was ${formatAmount(from.unit, from.amount)})` : ''}.`;
    const a = this.options.trail;
    if (a) {
      await a.events.record(a.session ?? null, { type: 'budget.raised', actor: by, data: { scope, unit: to.unit, from: from?.amount ?? null, to: to.amount, ...(from && from.unit !== to.unit ? { from_unit: from.unit } : {}) } });
    }
    this.options.onEvent?.({ kind: 'raised', scope, from, to, by: by.principal, message });
    await this.observe();
  }

  /** The audit records of this meter name the session once it exists. */
  setSession(session: string): void {
    if (this.options.trail) this.options.trail.session = session;
  }

  private async update(session: SessionSpend | undefined): Promise<BudgetReached | undefined> {
    if (session) this.session = this.spendOf(session);
    const { ledger } = this.options;
    if (ledger && (this.limits.day || session)) {
      const day = ledger.today();
      if (!this.dayBase) this.dayBase = { day, spend: { tokens: 0, ...(this.session.usd !== undefined ? { usd: 0 } : {}) } };
      else if (this.dayBase.day !== day) this.dayBase = { day, spend: this.session };
      const today: Spend = {
        tokens: Math.max(0, this.session.tokens - this.dayBase.spend.tokens),
        ...(this.session.usd !== undefined ? { usd: Math.max(0, this.session.usd - (this.dayBase.spend.usd ?? 0)) } : {}),
      };
      if (session) await ledger.record(day, this.options.key, today);
      const raised = await ledger.raisedLimit(day);
      this.day = { spent: await ledger.total(day), limit: raised ? { unit: raised.unit, amount: raised.amount } : this.limits.day };
    }
    return this.evaluate();
  }

  private spendOf(session: SessionSpend): Spend {
    const u = session.usage;
    const tokens = u ? tokensOf(u) : this.session.tokens;
    const consumed = session.spend_control?.consumed;
    const price = this.options.price;
    const usd = price ? (u ? costUsd(u, price) : (this.session.usd ?? 0)) : typeof consumed === 'number' ? consumed / 100 : undefined;
    return { tokens, ...(usd !== undefined ? { usd } : {}) };
  }

  private spent(scope: BudgetScope, unit: BudgetUnit): number | undefined {
    if (scope === 'task') return unit === 'usd' ? this.session.usd : this.session.tokens;
    if (!this.day) return undefined;
    return unit === 'usd' ? (this.day.spent.usdKnown || this.day.spent.usd > 0 ? this.day.spent.usd : undefined) : this.day.spent.tokens;
  }

  private evaluate(): BudgetReached | undefined {
    const emit = this.options.onEvent;
    // A limit raised elsewhere (today's, by a person in another window) lifts this meter's stop too.
    if (this.hit) {
      const limit = this.limit(this.hit.scope);
      const spent = limit && this.spent(this.hit.scope, limit.unit);
      if (limit && spent !== undefined && spent < limit.amount) {
        if (spent < WARN_AT * limit.amount) this.warned.delete(this.hit.scope);
        this.hit = undefined;
      }
    }
    for (const scope of ['task', 'day'] as const) {
      const limit = this.limit(scope);
      if (!limit) continue;
      const spent = this.spent(scope, limit.unit);
      if (spent === undefined) {
        if (!this.unmeasuredSaid.has(scope) && (scope === 'task' || this.day)) {
          this.unmeasuredSaid.add(scope);
          emit?.({
            kind: 'unmeasured',
            scope,
            message: `No price is known for this model, so Deputy cannot count ${SCOPE_WORDS[scope]} ${formatAmount('usd', limit.amount)} budget in dollars${scope === 'task' ? '; the endpoint enforces it where it supports spend limits' : ''}. Give the model's price (deputy.budget.prices, --prices) or a budget in tokens.`,
          });
        }
        continue;
      }
      const state: BudgetState = { scope, unit: limit.unit, spent, limit: limit.amount };
      if (spent >= limit.amount && !this.hit) {
        this.warned.add(scope);
        this.reach(state);
      } else if (spent >= WARN_AT * limit.amount && spent < limit.amount && !this.warned.has(scope)) {
        this.warned.add(scope);
        const message = `${capitalise(SCOPE_WORDS[scope])} budget is ${Math.floor((spent / limit.amount) * 100)}% spent (${formatAmount(limit.unit, spent)} of ${formatAmount(limit.unit, limit.amount)}). Deputy stops the agent at 100%.`;
        this.record('budget.warning', state);
        emit?.({ kind: 'warning', state, message });
      }
    }
    emit?.({ kind: 'meter', states: this.states() });
    return this.hit;
  }

  private reach(state: BudgetState): void {
    const message =
      `Budget reached: ${SCOPE_WORDS[state.scope]} budget of ${formatAmount(state.unit, state.limit)} is spent (${formatAmount(state.unit, state.spent)}), ` +
      'so Deputy stops the agent and sends it nothing more until you raise the budget.';
    this.hit = { ...state, message };
    this.record('budget.reached', state);
    this.options.onEvent?.({ kind: 'reached', state, message });
    for (const listener of [...this.listeners]) listener(this.hit);
  }

  private record(type: 'budget.warning' | 'budget.reached', state: BudgetState): void {
    const a = this.options.trail;
    if (!a) return;
    // Recorded in the background: the turn loop must not wait on the trail to stop the agent.
    void a.events
      .record(a.session ?? null, { type, data: { scope: state.scope, unit: state.unit, spent: round(state.spent), limit: state.limit } })
      .catch(() => undefined);
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** The endpoint's `spend_control.limit` for a per-task budget in dollars (whole US cents, at least one). */
export function spendLimitCents(limit: BudgetLimit | undefined): number | undefined {
  return limit?.unit === 'usd' ? Math.max(1, Math.round(limit.amount * 100)) : undefined;
}

/**
 * Before a turn starts: when a budget is already reached (by this session, or today's by any), the turn is refused
 * without sending anything, as a failed outcome saying why; null when work may be sent.
 */
export async function budgetRefusal<S>(meter: BudgetMeter | undefined, session: S): Promise<{ status: 'failed'; error: string; budgetReached: BudgetReached; finalText: string; lastSession: S; filesChanged: string[] } | null> {
  const hit = meter && (await meter.check());
  if (!hit) return null;
  return { status: 'failed', error: hit.message, budgetReached: hit, finalText: '', lastSession: session, filesChanged: [] };
}

