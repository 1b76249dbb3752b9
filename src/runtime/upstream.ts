/**
 * One model call of the agent loop, against any OpenAI-compatible upstream through the `openai` package:
 * the Responses API, or Chat Completions for servers without it. Both stream; both come back as a
 * `ModelStep` (text, function calls, usage). Failures become `UpstreamError`s whose message names the URL
 * and model that failed and the `deputy` option that configures each.
 */
import { randomUUID } from 'node:crypto';
import { KnownSecrets, displayUrl, redactText } from '../core/redact.js';
import OpenAI from 'openai';
import { openaiScope } from '../agents/endpoints.js';
import type { TokenUsage } from 'openai/resources/beta/agents/agents';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { upstreamCallId, type FunctionTool, type RuntimeItem, type TurnErrorCode } from './wire.js';
import { CHAT_ENVIRONMENT_TOOLS, ENVIRONMENT_TOOLS } from './codex-tools.js';
import type { PriceOverrides } from '../core/prices.js';

/** Where the runtime's agents get their model: any OpenAI-compatible base URL. */
export interface UpstreamConfig {
  /** e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama). */
  baseURL: string;
  /** The default model; a session may name another. */
  model: string;
  /** Sent as the bearer to the upstream. Never logged, never stored, never echoed in errors. */
  apiKey?: string;
  /**
   * OpenAI organization / project headers. Unset: the environment's `OPENAI_ORG_ID` / `OPENAI_PROJECT_ID` go to
   * api.openai.com only, never to another upstream (`openaiScope`).
   */
  organization?: string;
  project?: string;
  api: 'responses' | 'chat';
  /** Retries of a failed model call by the `openai` client (429, 5xx, connection errors). Default 2. */
  maxRetries?: number;
  /**
   * Prices charged against `spend_control`, in USD cents per million tokens, for every model (`--price-input` and
   * `--price-output`). Unset: the session's model's price from Deputy's table (`core/prices.ts`) with `prices` over
   * it, and 250 input / 1000 output for a model without a known price.
   */
  pricing?: { inputCentsPerMillion: number; outputCentsPerMillion: number };
  /** Per-model price overrides (`--prices FILE`, `DEPUTY_PRICES`), USD per million tokens. */
  prices?: PriceOverrides;
}

export interface ModelToolCall {
  callId: string;
  name: string;
  /** The JSON text exactly as the model produced it (a custom tool's free-form input, for `kind: "custom"`). */
  arguments: string;
  /** `custom`: a Responses API custom tool call (`apply_patch` of an environment session). */
  kind?: 'function' | 'custom';
}

export interface ModelStep {
  text: string;
  toolCalls: ModelToolCall[];
  usage: TokenUsage | null;
}

export interface ModelRequest {
  model: string;
  instructions: string | null;
  tools: FunctionTool[];
  history: RuntimeItem[];
  /** A self-hosted environment session: the model is also offered Codex's `exec_command` and `apply_patch`. */
  environment?: boolean;
}

export class UpstreamError extends Error {
  constructor(
    readonly code: TurnErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export function createUpstreamClient(config: UpstreamConfig): OpenAI {
  return new OpenAI({
    baseURL: config.baseURL,
    // The package insists on a key; local servers (vLLM, Ollama) ignore the bearer, so a placeholder is harmless.
    apiKey: config.apiKey ?? 'no-key',
    maxRetries: config.maxRetries ?? 2,
    ...openaiScope(config.baseURL, {
      ...(config.organization ? { organization: config.organization } : {}),
      ...(config.project ? { project: config.project } : {}),
    }),
  });
}

/** Calls the model once, streaming; `onTextDelta` sees assistant text as it arrives. */
export async function callModel(
  client: OpenAI,
  config: UpstreamConfig,
  request: ModelRequest,
  signal: AbortSignal,
  onTextDelta: (delta: string) => void,
): Promise<ModelStep> {
  try {
    return config.api === 'responses'
      ? await callResponses(client, request, signal, onTextDelta)
      : await callChat(client, request, signal, onTextDelta);
  } catch (err) {
    if (signal.aborted) throw err;
    throw describeUpstreamError(err, config, request.model);
  }
}

async function callResponses(
  client: OpenAI,
  request: ModelRequest,
  signal: AbortSignal,
  onTextDelta: (delta: string) => void,
): Promise<ModelStep> {
  const stream = await client.responses.create(
    {
      model: request.model,
      input: toResponsesInput(request.history),
      ...(request.instructions ? { instructions: request.instructions } : {}),
      ...(request.tools.length || request.environment
        ? {
            tools: [
              ...(request.environment ? ENVIRONMENT_TOOLS : []),
              ...request.tools.map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters, strict: false })),
            ],
          }
        : {}),
      stream: true,
    },
    { signal },
  );
  let text = '';
  const toolCalls: ModelToolCall[] = [];
  let usage: TokenUsage | null = null;
  for await (const event of stream as AsyncIterable<ResponseStreamEvent>) {
    switch (event.type) {
      case 'response.output_text.delta':
        text += event.delta;
        onTextDelta(event.delta);
        break;
      case 'response.output_item.done':
        if (event.item.type === 'function_call') {
          toolCalls.push({ callId: event.item.call_id, name: event.item.name, arguments: event.item.arguments });
        } else if (event.item.type === 'custom_tool_call') {
          toolCalls.push({ callId: event.item.call_id, name: event.item.name, arguments: event.item.input, kind: 'custom' });
        }
        break;
      case 'response.completed':
        usage = event.response.usage ? tokenUsage(event.response.usage.input_tokens, event.response.usage.output_tokens, event.response.usage.input_tokens_details?.cached_tokens, event.response.usage.output_tokens_details?.reasoning_tokens) : null;
        break;
      case 'response.failed':
        throw new UpstreamError('server_error', event.response.error?.message ?? 'the model reported the response as failed');
      case 'response.incomplete':
        throw new UpstreamError(
          'max_output_tokens',
          `the model stopped before finishing (${event.response.incomplete_details?.reason ?? 'incomplete'})`,
        );
      case 'error':
        throw new UpstreamError('server_error', event.message);
      default:
        break;
    }
  }
  return { text, toolCalls, usage };
}

async function callChat(
  client: OpenAI,
  request: ModelRequest,
  signal: AbortSignal,
  onTextDelta: (delta: string) => void,
): Promise<ModelStep> {
  const stream = await client.chat.completions.create(
    {
      model: request.model,
      messages: toChatMessages(request.instructions, request.history),
      ...(request.tools.length || request.environment
        ? {
            tools: [
              ...(request.environment ? CHAT_ENVIRONMENT_TOOLS : []),
              ...request.tools.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } })),
            ],
          }
        : {}),
      stream: true,
      stream_options: { include_usage: true },
    },
    { signal },
  );
  let text = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  let usage: TokenUsage | null = null;
  for await (const chunk of stream) {
    if (chunk.usage) {
      usage = tokenUsage(
        chunk.usage.prompt_tokens,
        chunk.usage.completion_tokens,
        chunk.usage.prompt_tokens_details?.cached_tokens,
        chunk.usage.completion_tokens_details?.reasoning_tokens,
      );
    }
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    if (delta.content) {
      text += delta.content;
      onTextDelta(delta.content);
    }
    for (const call of delta.tool_calls ?? []) {
      const slot = (calls[call.index] ??= { id: '', name: '', arguments: '' });
      if (call.id) slot.id = call.id;
      if (call.function?.name) slot.name += call.function.name;
      if (call.function?.arguments) slot.arguments += call.function.arguments;
    }
  }
  const toolCalls = calls
    .filter((c): c is { id: string; name: string; arguments: string } => c !== undefined)
    .map((c, i) => ({ callId: c.id || `call_${i}_${randomUUID()}`, name: c.name, arguments: c.arguments || '{}' }));
  return { text, toolCalls, usage };
}

function tokenUsage(input: number, output: number, cached = 0, reasoning = 0): TokenUsage {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning ?? 0 },
    total_tokens: input + output,
  };
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    return output.map((p: { type?: string; text?: string }) => (p.type === 'input_text' ? (p.text ?? '') : '[image]')).join('');
  }
  return '';
}

function functionResult(item: Extract<RuntimeItem, { type: 'function_call_output' }>): string {
  return item.status === 'failed' || item.error ? `Error: ${item.error ?? 'the tool call failed'}` : outputText(item.output);
}

export function toResponsesInput(history: RuntimeItem[]): ResponseInputItem[] {
  const answered = answeredCalls(history);
  const input: ResponseInputItem[] = [];
  for (const item of history) {
    if (item.type === 'message' && item.role === 'user') {
      input.push({
        role: 'user',
        content: item.content.map((c) =>
          c.type === 'input_image'
            ? { type: 'input_image' as const, image_url: c.image_url, detail: 'auto' as const }
            : { type: 'input_text' as const, text: c.text },
        ),
      });
    } else if (item.type === 'message') {
      input.push({ role: 'assistant', content: item.content.map((c) => ('text' in c ? c.text : '')).join('') });
    } else if (item.type === 'function_call' && answered.has(item.call_id)) {
      input.push({ type: 'function_call', call_id: upstreamCallId(item)!, name: item.name, arguments: String(item.arguments) });
    } else if (item.type === 'function_call_output' && item.status !== 'incomplete') {
      input.push({ type: 'function_call_output', call_id: upstreamCallId(item)!, output: functionResult(item) });
    } else if (item.type === 'command_execution' && item.model_call && item.model_call.output !== null) {
      // An environment tool the runtime ran itself: the call and its result, as the model made and expects them.
      const call = item.model_call;
      if (call.kind === 'custom') {
        input.push({ type: 'custom_tool_call', call_id: call.call_id, name: call.name, input: call.input });
        input.push({ type: 'custom_tool_call_output', call_id: call.call_id, output: call.output ?? '' });
      } else {
        input.push({ type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.input });
        input.push({ type: 'function_call_output', call_id: call.call_id, output: call.output ?? '' });
      }
    }
  }
  return input;
}

/**
 * Calls that got a result, by the runtime's own (unique) call id. Calls of a cancelled turn never got one; models
 * reject a call without its output, so both are left out.
 */
function answeredCalls(history: RuntimeItem[]): Set<string> {
  return new Set(
    history.flatMap((i) => (i.type === 'function_call_output' && i.status !== 'incomplete' && i.call_id ? [i.call_id] : [])),
  );
}

export function toChatMessages(instructions: string | null, history: RuntimeItem[]): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = instructions ? [{ role: 'system', content: instructions }] : [];
  const answered = answeredCalls(history);
  for (const item of history) {
    if (item.type === 'message' && item.role === 'user') {
      const onlyText = item.content.every((c) => c.type === 'input_text');
      messages.push({
        role: 'user',
        content: onlyText
          ? item.content.map((c) => ('text' in c ? c.text : '')).join('')
          : item.content.map((c) =>
              c.type === 'input_image'
                ? { type: 'image_url' as const, image_url: { url: c.image_url } }
                : { type: 'text' as const, text: 'text' in c ? c.text : '' },
            ),
      });
    } else if (item.type === 'message') {
      messages.push({ role: 'assistant', content: item.content.map((c) => ('text' in c ? c.text : '')).join('') });
    } else if (item.type === 'function_call' && answered.has(item.call_id)) {
      const call: ChatCompletionMessageToolCall = {
        id: upstreamCallId(item)!,
        type: 'function',
        function: { name: item.name, arguments: String(item.arguments) },
      };
      // The calls of one model response follow its text; Chat Completions wants them on that one assistant message.
      const last = messages.at(-1);
      if (last && last.role === 'assistant') {
        last.tool_calls = [...(last.tool_calls ?? []), call];
      } else {
        messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      }
    } else if (item.type === 'function_call_output' && item.status !== 'incomplete') {
      messages.push({ role: 'tool', tool_call_id: upstreamCallId(item)!, content: functionResult(item) });
    } else if (item.type === 'command_execution' && item.model_call && item.model_call.output !== null) {
      const call = item.model_call;
      const args = call.kind === 'custom' ? JSON.stringify({ input: call.input }) : call.input;
      const toolCall: ChatCompletionMessageToolCall = { id: call.call_id, type: 'function', function: { name: call.name, arguments: args } };
      const last = messages.at(-1);
      if (last && last.role === 'assistant' && !last.tool_calls?.length) last.tool_calls = [toolCall];
      else messages.push({ role: 'assistant', content: null, tool_calls: [toolCall] });
      messages.push({ role: 'tool', tool_call_id: call.call_id, content: call.output ?? '' });
    }
  }
  return messages;
}


const HOW_TO_CONFIGURE =
  'Configure the upstream with --model-base-url <url>, --model <name> and --model-api-key-env <VAR> (the environment variable holding its API key).';

/**
 * Turns an `openai` client failure into a message a user can act on. It lands in the session's `error`, the log
 * and the terminal, so credentials are kept out: the API key never, a `user:pass@` in the URL is dropped, and any
 * credential-looking text the server echoed is redacted.
 */
export function describeUpstreamError(err: unknown, config: UpstreamConfig, model: string): UpstreamError {
  const described = describe(err, { ...config, baseURL: displayUrl(config.baseURL) }, model);
  return new UpstreamError(described.code, redactText(described.message, new KnownSecrets([config.apiKey])));
}

function describe(err: unknown, config: UpstreamConfig, model: string): UpstreamError {
  if (err instanceof UpstreamError) {
    return new UpstreamError(err.code, `The model "${model}" at ${config.baseURL} failed: ${err.message}. ${HOW_TO_CONFIGURE}`);
  }
  const endpoint = `${config.baseURL.replace(/\/$/, '')}/${config.api === 'responses' ? 'responses' : 'chat/completions'}`;
  const where = `POST ${endpoint} (model "${model}")`;
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new UpstreamError('request_timeout', `The model call ${where} timed out. Check the server is up. ${HOW_TO_CONFIGURE}`);
  }
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = (err as { cause?: { cause?: { code?: string }; code?: string } }).cause;
    const code = cause?.cause?.code ?? cause?.code;
    return new UpstreamError(
      'connection_failed',
      `Could not connect to the model server for ${where}${code ? ` (${code})` : ''}. Check --model-base-url points at a running OpenAI-compatible server. ${HOW_TO_CONFIGURE}`,
    );
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    const detail = (err.error as { message?: string } | undefined)?.message ?? err.message;
    const code: TurnErrorCode =
      status === 401 || status === 403
        ? 'authentication_error'
        : status === 404
          ? 'resource_not_found'
          : status === 429
            ? 'rate_limit_exceeded'
            : status >= 500
              ? 'server_error'
              : 'invalid_request';
    const hint =
      code === 'authentication_error'
        ? 'Check the API key: pass the name of the environment variable that holds it with --model-api-key-env.'
        : code === 'resource_not_found'
          ? `Check --model names a model this server serves, and --model-base-url ends with the API root (usually /v1)${
              config.api === 'responses' ? '; if this server has no Responses API, pass --model-api chat' : ''
            }.`
          : code === 'invalid_request' && config.api === 'responses'
            ? 'If this server has no Responses API, pass --model-api chat to use Chat Completions.'
            : '';
    return new UpstreamError(code, `The model call ${where} answered ${status}: ${detail}. ${hint ? `${hint} ` : ''}${HOW_TO_CONFIGURE}`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new UpstreamError('internal_error', `The model call ${where} failed: ${message}. ${HOW_TO_CONFIGURE}`);
}
