/**
 * What a model's tokens cost, so a budget in dollars means dollars: a maintained table of the public prices of the
 * OpenAI models Deputy's endpoints serve, an override a person or an organisation supplies (setting
 * `deputy.budget.prices`, `deputy run --prices FILE`, `DEPUTY_PRICES`), and the cost of a usage report.
 *
 * The table: USD per million tokens, standard (not batch, flex or priority) tier, from OpenAI's public pricing page
 * (https://platform.openai.com/docs/pricing) as restated by deploybase.ai ("OpenAI API Pricing 2026", data of
 * March 2026) and apis.io's OpenAI profile (read 2026-11-05); looked up 2026-11-30. Cached input follows OpenAI's
 * published discounts (GPT-5 family a tenth of input, GPT-4.1 and o3/o4-mini a quarter, GPT-4o and older a half).
 * Prices change: when they do, update this table (and its date) or override it; a model not in it has no known
 * price, and budgets for it count tokens.
 */
import type { TokenUsage } from 'openai/resources/beta/agents/agents';

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  /** Input tokens served from the prompt cache; the input price when absent. */
  cachedInputPerMillion?: number;
  outputPerMillion: number;
}

const p = (input: number, cached: number, output: number): ModelPrice => ({ inputPerMillion: input, cachedInputPerMillion: cached, outputPerMillion: output });

/** Checked 2026-11-30 (see the module comment for the sources). Keys are model ids without a dated suffix. */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  'gpt-5.4': p(2.5, 0.25, 15),
  'gpt-5.4-mini': p(0.75, 0.075, 4.5),
  'gpt-5.1': p(1.25, 0.125, 10),
  'gpt-5.1-codex': p(1.25, 0.125, 10),
  'gpt-5-codex': p(1.25, 0.125, 10),
  'gpt-5': p(1.25, 0.125, 10),
  'gpt-5-mini': p(0.25, 0.025, 2),
  'gpt-5-nano': p(0.05, 0.005, 0.4),
  'gpt-5-pro': p(15, 15, 120),
  'gpt-4.1': p(2, 0.5, 8),
  'gpt-4.1-mini': p(0.4, 0.1, 1.6),
  'gpt-4.1-nano': p(0.1, 0.025, 0.4),
  'gpt-4o': p(2.5, 1.25, 10),
  'gpt-4o-mini': p(0.15, 0.075, 0.6),
  o3: p(2, 0.5, 8),
  'o3-mini': p(1.1, 0.55, 4.4),
  'o4-mini': p(1.1, 0.275, 4.4),
  o1: p(15, 7.5, 60),
};

export type PriceOverrides = Readonly<Record<string, ModelPrice>>;

/**
 * The model id as the table keys it: lower case, without a provider prefix (`openai/gpt-5`, Bedrock's
 * `openai.gpt-5`) or a dated snapshot suffix (`gpt-4.1-2025-04-14`).
 */
export function normaliseModel(model: string): string {
  let m = model.trim().toLowerCase();
  m = m.slice(m.lastIndexOf('/') + 1);
  if (m.startsWith('openai.')) m = m.slice('openai.'.length);
  return m.replace(/-\d{4}-\d{2}-\d{2}$/, '');
}

/** The price of `model`: an override (by exact id, then normalised) wins over the table; undefined when unknown. */
export function priceFor(model: string | undefined | null, overrides: PriceOverrides = {}): ModelPrice | undefined {
  if (!model) return undefined;
  const key = normaliseModel(model);
  return overrides[model] ?? overrides[key] ?? PRICE_TABLE[key];
}

/** Usage as the endpoints report it; `input_tokens` includes the cached ones. */
export type UsageLike = Pick<TokenUsage, 'input_tokens' | 'output_tokens'> & {
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number | null } | null;
};

/** USD for `usage` at `price`: cached input at its own rate, the rest of the input and the output at theirs. */
export function costUsd(usage: UsageLike, price: ModelPrice): number {
  const cached = Math.min(usage.input_tokens, Math.max(0, usage.input_tokens_details?.cached_tokens ?? 0));
  const fresh = usage.input_tokens - cached;
  const cachedRate = price.cachedInputPerMillion ?? price.inputPerMillion;
  return (fresh * price.inputPerMillion + cached * cachedRate + usage.output_tokens * price.outputPerMillion) / 1_000_000;
}

/** Total tokens of a usage report (its own total when given). */
export function tokensOf(usage: UsageLike): number {
  return usage.total_tokens ?? usage.input_tokens + usage.output_tokens;
}

export class PriceOverrideError extends Error {
  override readonly name = 'PriceOverrideError';
}

/**
 * Overrides from their JSON form, `{"<model>": {"input": USD, "cachedInput"?: USD, "output": USD}}` per million
 * tokens; anything else is refused with a message naming the entry.
 */
export function parsePriceOverrides(value: unknown): Record<string, ModelPrice> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PriceOverrideError('Prices are an object: {"<model>": {"input": 1.25, "cachedInput": 0.125, "output": 10}} in USD per million tokens.');
  }
  const out: Record<string, ModelPrice> = {};
  for (const [model, entry] of Object.entries(value as Record<string, unknown>)) {
    const e = (entry ?? {}) as Record<string, unknown>;
    const rate = (k: string, required: boolean): number | undefined => {
      const n = e[k];
      if (n === undefined && !required) return undefined;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        throw new PriceOverrideError(`The price of "${model}" needs "${k}": a number of US dollars per million tokens, 0 or more.`);
      }
      return n;
    };
    const input = rate('input', true)!;
    const output = rate('output', true)!;
    const cached = rate('cachedInput', false);
    out[model] = { inputPerMillion: input, outputPerMillion: output, ...(cached !== undefined ? { cachedInputPerMillion: cached } : {}) };
  }
  return out;
}
