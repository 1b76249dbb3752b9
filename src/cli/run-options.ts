/**
 * `deputy run` options: flags first, then DEPUTY_* environment variables, then embedded defaults. Parsed and
 * checked once here so the rest of the command works with a complete, typed value.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BudgetParseError, parseBudget, type BudgetLimit } from '../core/budget.js';
import { parsePriceOverrides, PriceOverrideError, type PriceOverrides } from '../core/prices.js';
import type { CliIO } from './io.js';
import { parseCommandArgs } from './args.js';
import type { UpstreamConfig } from '../runtime/index.js';
import { UserError } from './io.js';
import { DEFAULT_MAX_PROMPTS, DEFAULT_MAX_STEPS } from '../core/turn-limits.js';

/** Ollama's OpenAI-compatible address: the embedded default upstream model. */
export const DEFAULT_MODEL_BASE_URL = 'http://127.0.0.1:11434/v1';
export const DEFAULT_MODEL = 'llama3.2';

export type EndpointChoice =
  | { kind: 'embedded' }
  | { kind: 'url'; url: string }
  | { kind: 'openai' }
  | { kind: 'bedrock' };

export interface RunOptions extends ModelOptions {
  task: string;
  workspace: string;
  endpoint: EndpointChoice;
  tokenFile?: string;
  auth: 'token' | 'iam';
  serverId?: string;
  profile?: string;
  region?: string;
  /** Environment variable holding the OpenAI API key, for `--endpoint openai`. */
  apiKeyEnv: string;
  dataDir: string;
  policyFiles: string[];
  spendLimitCents?: number;
  /** `--budget`: this task's budget, in dollars or tokens, enforced by Deputy (and sent as the spend limit). */
  budget?: BudgetLimit;
  /** `--budget-per-day` / `DEPUTY_BUDGET_PER_DAY`: every session of this person on this machine today. */
  budgetPerDay?: BudgetLimit;
  instructions?: string;
  /** Caps per turn: tool calls, and permission prompts (`turn-limits.ts` defaults when absent). */
  maxSteps?: number;
  maxPrompts?: number;
  /** Deputy is the session's execution environment (`environment: self_hosted`) instead of offering client tools. */
  environment?: boolean;
  /** With `environment`: run commands without a sandbox where none can run here. */
  allowUnsandboxed?: boolean;
  /** With `environment`: minutes a held command waits for an answer before it is denied. */
  promptTimeoutMinutes?: number;
}

export const RUN_USAGE = `Usage: deputy run [options] "<task>"

Hands a task to a managed agent working in this workspace. You approve gated actions and review
every proposed file; nothing is written without your approval.

Endpoint:
  --endpoint E            embedded (default: start Deputy's runtime here), a runtime URL,
                          openai, or bedrock
  --token-file F          bearer token file of a Deputy runtime at --endpoint URL
  --auth token|iam        how to authenticate to a runtime URL (default token); iam sends a
                          presigned sts:GetCallerIdentity proof of your AWS identity
  --server-id ID          the runtime's server id, for --auth iam
  --profile P             AWS profile (bedrock, --auth iam, identity); default AWS_PROFILE
  --region R              AWS region for bedrock; default the profile's region or AWS_REGION
  --api-key-env VAR       variable holding the OpenAI API key for --endpoint openai (OPENAI_API_KEY)

Model:
  --model M               model the agent uses (DEPUTY_MODEL, default ${DEFAULT_MODEL})
  --model-base-url URL    upstream OpenAI-compatible model for the embedded runtime
                          (DEPUTY_MODEL_BASE_URL, default ${DEFAULT_MODEL_BASE_URL}, Ollama's address)
  --model-api-key-env VAR variable holding the upstream model's API key (DEPUTY_MODEL_API_KEY_ENV)
  --model-api API         responses (default) or chat, for servers without the Responses API
                          (DEPUTY_MODEL_API)

Task:
  --workspace DIR         the workspace (default: the current folder)
  --policy FILE           a policy file allowing or denying tools and paths (repeatable); changes
                          are always reviewed by you, whatever the policy says
  --budget B              this task's budget: 2usd ($, in US dollars where the model's price is
                          known) or 50000tokens; warned at 80%, stopped at 100% (you may raise it)
  --budget-per-day B      today's budget across every Deputy session of yours on this machine
                          (DEPUTY_BUDGET_PER_DAY)
  --spend-limit CENTS     the endpoint's own spend limit in US cents (--budget in dollars sets it)
  --prices FILE           model prices over Deputy's table, JSON {"model": {"input": USD,
                          "cachedInput": USD, "output": USD}} per million tokens (DEPUTY_PRICES)
  --price-input USD       one price per million input tokens for any model: the summary's cost,
                          budgets, and what the embedded runtime charges against spend limits
  --price-output USD      one price per million output tokens for any model
  --instructions TEXT     instructions for the agent instead of Deputy's defaults
  --max-steps N           most tool calls the agent may make in one turn (default ${DEFAULT_MAX_STEPS});
                          past it the turn is cancelled
  --max-prompts N         most permission prompts one turn may ask you (default ${DEFAULT_MAX_PROMPTS});
                          past it the turn is cancelled
  --data-dir DIR          the embedded runtime's store (default <workspace>/.deputy/runtime)

Execution environment:
  --environment           be the agent's execution environment: the session is self_hosted, the
                          agent's commands (under policy and your approval, sandboxed) and edits
                          land in a shadow copy of the workspace, reviewed by you after each turn
                          (embedded, a runtime URL, or bedrock)
  --allow-unsandboxed     with --environment: run commands unsandboxed where no sandbox can run
  --prompt-timeout-minutes N  with --environment: how long a held command waits for you (default 5)

Answers come from the terminal, or one per line from stdin when it is not a terminal:
y/n for permissions; a, r, or "c <comment>" for each proposed file. End of input rejects.`;

export function parseRunOptions(argv: string[], io: CliIO): RunOptions {
  const parsed = parseCommandArgs(
    argv,
    {
      endpoint: { type: 'string' },
      'token-file': { type: 'string' },
      auth: { type: 'string' },
      'server-id': { type: 'string' },
      profile: { type: 'string' },
      region: { type: 'string' },
      'api-key-env': { type: 'string' },
      ...MODEL_FLAGS,
      workspace: { type: 'string' },
      policy: { type: 'string', multiple: true },
      'spend-limit': { type: 'string' },
      budget: { type: 'string' },
      'budget-per-day': { type: 'string' },
      instructions: { type: 'string' },
      'data-dir': { type: 'string' },
      'max-steps': { type: 'string' },
      'max-prompts': { type: 'string' },
      environment: { type: 'boolean' },
      'allow-unsandboxed': { type: 'boolean' },
      'prompt-timeout-minutes': { type: 'string' },
    },
    RUN_USAGE,
    true,
  );
  const v = parsed.values;
  const task = parsed.positionals.join(' ').trim();
  if (!task) throw new UserError(`Say what the agent should do: deputy run "<task>"\n\n${RUN_USAGE}`, 2);

  const env = io.env;
  const workspace = resolve(io.cwd, v.workspace ?? '.');
  const endpoint = parseEndpoint(v.endpoint ?? env.DEPUTY_ENDPOINT ?? 'embedded');
  const auth = v.auth ?? 'token';
  if (auth !== 'token' && auth !== 'iam') throw new UserError(`--auth must be token or iam, not "${auth}".`, 2);
  if (auth === 'iam' && endpoint.kind !== 'url') throw new UserError('--auth iam applies to a runtime URL given with --endpoint.', 2);
  if (auth === 'iam' && !v['server-id']) throw new UserError('--auth iam needs the runtime\'s --server-id.', 2);
  const options: RunOptions = {
    task,
    workspace,
    endpoint,
    auth,
    ...modelOptions(v, env, io.cwd),
    apiKeyEnv: v['api-key-env'] ?? 'OPENAI_API_KEY',
    dataDir: resolve(io.cwd, v['data-dir'] ?? resolve(workspace, '.deputy', 'runtime')),
    policyFiles: (v.policy ?? []).map((p) => resolve(io.cwd, p)),
    maxSteps: positiveInteger(v['max-steps'], DEFAULT_MAX_STEPS, '--max-steps'),
    maxPrompts: positiveInteger(v['max-prompts'], DEFAULT_MAX_PROMPTS, '--max-prompts'),
    ...(v.environment ? { environment: true } : {}),
    ...(v['allow-unsandboxed'] ? { allowUnsandboxed: true } : {}),
  };
  if (!options.environment && (v['allow-unsandboxed'] || v['prompt-timeout-minutes'] !== undefined)) {
    throw new UserError('--allow-unsandboxed and --prompt-timeout-minutes apply with --environment.', 2);
  }
  if (options.environment && endpoint.kind === 'openai') {
    throw new UserError('--environment works with the embedded runtime, a Deputy runtime URL and Bedrock; OpenAI connects self-hosted environments through its own transport.', 2);
  }
  if (v['prompt-timeout-minutes'] !== undefined) {
    const minutes = Number(v['prompt-timeout-minutes']);
    if (!Number.isFinite(minutes) || minutes <= 0) throw new UserError(`--prompt-timeout-minutes must be a positive number; got "${v['prompt-timeout-minutes']}".`, 2);
    options.promptTimeoutMinutes = minutes;
  }
  if (v['token-file']) options.tokenFile = resolve(io.cwd, v['token-file']);
  if (v['server-id']) options.serverId = v['server-id'];
  const profile = v.profile ?? env.AWS_PROFILE;
  if (profile) options.profile = profile;
  const region = v.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) options.region = region;
  if (v.instructions) options.instructions = v.instructions;
  if (v['spend-limit'] !== undefined) {
    const cents = Number(v['spend-limit']);
    if (!Number.isInteger(cents) || cents <= 0) {
      throw new UserError(`--spend-limit is a whole number of US cents above 0 (e.g. 500 for $5); got "${v['spend-limit']}".`, 2);
    }
    options.spendLimitCents = cents;
  }
  if (v.budget !== undefined) options.budget = budgetFlag(v.budget, '--budget');
  const perDay = v['budget-per-day'] ?? env.DEPUTY_BUDGET_PER_DAY;
  if (perDay) options.budgetPerDay = budgetFlag(perDay, v['budget-per-day'] !== undefined ? '--budget-per-day' : 'DEPUTY_BUDGET_PER_DAY');
  if (options.budget?.unit === 'usd' && options.spendLimitCents === undefined) {
    options.spendLimitCents = Math.max(1, Math.round(options.budget.amount * 100));
  }
  return options;
}

export interface ModelOptions {
  /** The model the agent uses: the upstream model of the embedded runtime, or the agent model of a remote endpoint. */
  model: string;
  modelBaseUrl: string;
  modelApiKeyEnv?: string;
  modelApi: 'responses' | 'chat';
  /** USD per million tokens: the summary's cost line, and what the embedded runtime charges against a spend limit. */
  price?: { inputPerMillion: number; outputPerMillion: number };
  /** Per-model prices over Deputy's table (`--prices`, `DEPUTY_PRICES`). */
  prices?: PriceOverrides;
}

function budgetFlag(value: string, flag: string): BudgetLimit {
  try {
    return parseBudget(value);
  } catch (err) {
    if (err instanceof BudgetParseError) throw new UserError(`${flag}: ${err.message}`, 2);
    throw err;
  }
}

function readPrices(file: string, flag: string): PriceOverrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, 2);
  }
  try {
    return parsePriceOverrides(JSON.parse(text));
  } catch (err) {
    if (err instanceof PriceOverrideError || err instanceof SyntaxError) throw new UserError(`${flag}: ${file}: ${err.message}`, 2);
    throw err;
  }
}

/** The `--model*` and `--price-*` flags shared by `deputy run` (embedded runtime) and `deputy serve`. */
export const MODEL_FLAGS = {
  model: { type: 'string' },
  'model-base-url': { type: 'string' },
  'model-api-key-env': { type: 'string' },
  'model-api': { type: 'string' },
  'price-input': { type: 'string' },
  'price-output': { type: 'string' },
  prices: { type: 'string' },
} as const;

export function modelOptions(
  v: {
    model?: string;
    'model-base-url'?: string;
    'model-api-key-env'?: string;
    'model-api'?: string;
    'price-input'?: string;
    'price-output'?: string;
    prices?: string;
  },
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
): ModelOptions {
  const pricesFile = v.prices ?? env.DEPUTY_PRICES;
  const prices = pricesFile ? readPrices(resolve(cwd, pricesFile), v.prices !== undefined ? '--prices' : 'DEPUTY_PRICES') : undefined;
  const modelApi = v['model-api'] ?? env.DEPUTY_MODEL_API ?? 'responses';
  if (modelApi !== 'responses' && modelApi !== 'chat') {
    throw new UserError(`--model-api must be responses or chat, not "${modelApi}".`, 2);
  }
  const modelBaseUrl = v['model-base-url'] ?? env.DEPUTY_MODEL_BASE_URL ?? DEFAULT_MODEL_BASE_URL;
  checkUrl(modelBaseUrl, '--model-base-url');
  const keyEnv = v['model-api-key-env'] ?? env.DEPUTY_MODEL_API_KEY_ENV;
  return {
    model: v.model ?? env.DEPUTY_MODEL ?? DEFAULT_MODEL,
    modelBaseUrl,
    modelApi,
    ...(keyEnv ? { modelApiKeyEnv: keyEnv } : {}),
    ...(prices ? { prices } : {}),
    ...(v['price-input'] !== undefined || v['price-output'] !== undefined
      ? {
          price: {
            inputPerMillion: positiveNumber(v['price-input'] ?? '0', '--price-input'),
            outputPerMillion: positiveNumber(v['price-output'] ?? '0', '--price-output'),
          },
        }
      : {}),
  };
}

function parseEndpoint(value: string): EndpointChoice {
  if (value === 'embedded' || value === 'openai' || value === 'bedrock') return { kind: value };
  if (!/^https?:\/\//.test(value)) {
    throw new UserError(`--endpoint must be embedded, openai, bedrock or an http(s) URL of a Deputy runtime; got "${value}".`, 2);
  }
  checkUrl(value, '--endpoint');
  return { kind: 'url', url: value.replace(/\/+$/, '') };
}

function checkUrl(value: string, flag: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`${flag} must be an http(s) URL; got "${value}".`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${flag} must be an http(s) URL; got "${value}".`, 2);
  }
}

function positiveInteger(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a whole number above 0; got "${value}".`, 2);
  return n;
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`${flag} must be a non-negative number; got "${value}".`, 2);
  return n;
}

/** The runtime meters spend in US cents (the Agents API's `spend_control` unit); prices are given in dollars. */
export function centsPerMillion(price: { inputPerMillion: number; outputPerMillion: number }) {
  return { inputCentsPerMillion: price.inputPerMillion * 100, outputCentsPerMillion: price.outputPerMillion * 100 };
}

/**
 * The embedded or served runtime's upstream model from the model options. The API key is read from the variable
 * the user named, here and nowhere else, and never printed.
 */
export function upstreamFrom(model: ModelOptions, env: NodeJS.ProcessEnv): UpstreamConfig {
  const apiKey = model.modelApiKeyEnv ? env[model.modelApiKeyEnv] : undefined;
  if (model.modelApiKeyEnv && !apiKey) {
    throw new UserError(`--model-api-key-env names ${model.modelApiKeyEnv}, but that variable is not set.`);
  }
  return {
    baseURL: model.modelBaseUrl,
    model: model.model,
    api: model.modelApi,
    ...(apiKey ? { apiKey } : {}),
    ...(model.price ? { pricing: centsPerMillion(model.price) } : {}),
    ...(model.prices ? { prices: model.prices } : {}),
  };
}
