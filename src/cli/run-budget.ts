/**
 * `deputy run`'s budgets on the terminal: the meter for `--budget` / `--budget-per-day` (with the model's price from
 * `--price-*`, `--prices` or Deputy's table), its warning and stop as lines of the session, and — when a budget
 * stopped the agent — the question whether to raise it, answered by the person like any other prompt (a line on
 * stdin when it is not a terminal; end of input or an empty line means no).
 */
import type { AuditActor } from '../core/audit.js';
import type { EngineEvents } from '../core/event-channel.js';
import { BudgetMeter, BudgetParseError, formatAmount, parseBudget, type BudgetEvent, type BudgetReached } from '../core/budget.js';
import { DaySpendLedger } from '../core/day-spend.js';
import { priceFor } from '../core/prices.js';
import type { CliIO } from './io.js';
import type { LineReader } from './lines.js';
import type { RunOptions } from './run-options.js';
import type { Style } from './style.js';

/** Wrong answers before the question counts as a no. */
const MAX_ATTEMPTS = 3;

export interface CliBudget {
  meter: BudgetMeter;
  askRaise: (reached: BudgetReached) => Promise<boolean>;
}

export function cliBudget(deps: {
  options: RunOptions;
  io: CliIO;
  style: Style;
  lines: LineReader;
  /** The task's channel: the budget's warnings, stops and raises go on its trail. */
  events: EngineEvents;
  actor: AuditActor;
  taskId: string;
}): CliBudget | undefined {
  const { options, io, style, lines, actor } = deps;
  if (!options.budget && !options.budgetPerDay) return undefined;
  const price = options.price ?? priceFor(options.model, options.prices);
  const say = (text: string) => io.stdout.write(`\n${text}\n`);
  const onEvent = (e: BudgetEvent) => {
    if (e.kind === 'warning') say(style.yellow(`⚠ ${e.message}`));
    else if (e.kind === 'reached') say(style.red(`■ ${e.message}`));
    else if (e.kind === 'unmeasured') say(style.yellow(e.message));
    else if (e.kind === 'raised') say(style.dim(e.message));
  };
  const meter = new BudgetMeter({
    key: deps.taskId,
    ...(options.budget ? { perTask: options.budget } : {}),
    ...(options.budgetPerDay ? { perDay: options.budgetPerDay } : {}),
    ...(price ? { price } : {}),
    ledger: DaySpendLedger.forHome(io.env),
    trail: { events: deps.events },
    onEvent,
  });
  const askRaise = async (reached: BudgetReached): Promise<boolean> => {
    const example = formatAmount(reached.unit, reached.limit * 2).replace(/^\$(.*)$/, '$1usd').replace(/,/g, '').replace(' ', '');
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const answer = await lines.ask(`Raise ${reached.scope === 'day' ? "today's" : "this task's"} budget to (e.g. ${example}), or press Enter to stop: `);
      if (answer === null || answer.trim() === '') return false;
      try {
        const to = parseBudget(answer);
        if (to.unit === reached.unit && to.amount <= reached.spent) {
          say(style.yellow(`That is not above what was spent (${formatAmount(reached.unit, reached.spent)}).`));
          continue;
        }
        await meter.raise(reached.scope, to, actor);
        return true;
      } catch (err) {
        if (!(err instanceof BudgetParseError)) throw err;
        say(style.yellow(err.message));
      }
    }
    return false;
  };
  return { meter, askRaise };
}
