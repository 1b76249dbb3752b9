/**
 * A budget as a person writes and reads it (`2usd`, `$2.50`, `50000tokens`), shared by every front end: the CLI's
 * flags and prompt, the editor's settings and input boxes, the panel's field. Pure, so the webview bundles it too.
 */

export type BudgetUnit = 'usd' | 'tokens';

export interface BudgetLimit {
  unit: BudgetUnit;
  amount: number;
}

export class BudgetParseError extends Error {
  override readonly name = 'BudgetParseError';
}

/** `2usd`, `$2`, `2.50 USD`, `2` (dollars), `50000tokens`, `50k tokens`, `1.5m tokens`. */
export function parseBudget(text: string): BudgetLimit {
  const t = text.trim().toLowerCase().replace(/\s+/g, '');
  const m = /^\$?(\d+(?:\.\d+)?)(k|m)?(usd|\$|dollars?|tokens?|tok)?$/.exec(t);
  const amount = m ? Number(m[1]) * (m[2] === 'k' ? 1_000 : m[2] === 'm' ? 1_000_000 : 1) : NaN;
  const tokens = m?.[3]?.startsWith('tok') ?? false;
  if (!m || !(amount > 0) || (!tokens && m[2] !== undefined) || (tokens && t.startsWith('$'))) {
    throw new BudgetParseError(`"${text}" is not a budget: write it in US dollars (2usd, $2.50) or tokens (50000tokens, 50k tokens).`);
  }
  return tokens ? { unit: 'tokens', amount: Math.round(amount) } : { unit: 'usd', amount };
}

export function formatAmount(unit: BudgetUnit, amount: number): string {
  return unit === 'usd' ? `$${amount < 10 ? amount.toFixed(2) : amount.toFixed(2).replace(/\.00$/, '')}` : `${Math.round(amount).toLocaleString('en-US')} tokens`;
}

/** For an input box: why `text` is not a budget, or undefined when it is one. */
export function budgetInputError(text: string): string | undefined {
  try {
    parseBudget(text);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
