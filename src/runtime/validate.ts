/**
 * Checks request bodies and queries of the Agents API subset the runtime serves, turning them into typed
 * values or a 400 that names the offending parameter (the OpenAI `param` field).
 */
import type { AgentSessionMessageContent } from 'openai/resources/beta/agents/agents';
import { invalid, isRecord } from './http-util.js';
import type { PageQuery } from './store.js';
import type { FunctionTool } from './wire.js';
import { ENVIRONMENT_TOOL_NAMES } from './codex-tools.js';

export type UserContent = AgentSessionMessageContent.MessageContentResourceInputText | AgentSessionMessageContent.MessageContentResourceInputImage;

export interface CreateSessionInput {
  model: string | null;
  instructions: string | null;
  tools: FunctionTool[];
  metadata: Record<string, string>;
  spendLimit: number | null;
  /** Initial user messages; a turn starts right away when present. */
  input: UserContent[][] | null;
  /** `environment: {type: "self_hosted", …}`; null for `none`. */
  environment: SelfHostedEnvironmentInput | null;
}

export interface SelfHostedEnvironmentInput {
  workspaceDirectory: string;
  capabilityDirectories: string[];
}

export interface UpdateSessionInput {
  model?: string;
  instructions?: string | null;
  tools?: FunctionTool[];
  metadata?: Record<string, string>;
  spendLimit?: number | null;
}

export type InputEvent =
  | { type: 'agent.session.input.message'; messages: UserContent[][] }
  | { type: 'agent.session.input.cancel' }
  | {
      type: 'agent.session.input.tool_result';
      callId: string;
      turnId: string;
      success: boolean;
      output: string | UserContent[] | null;
      error: string | null;
    };

export function parseCreateSession(body: unknown): CreateSessionInput {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  if (body.stream === true) {
    throw invalid('The Deputy runtime does not stream from sessions.create; create the session, then use sessions.stream or events.stream.', 'stream');
  }
  if (body.agent_id !== undefined && body.agent_id !== null) {
    throw invalid('The Deputy runtime has no saved agents; configure the agent inline with `agent`.', 'agent_id');
  }
  const environment = parseEnvironment(body.environment);
  const agent = body.agent ?? {};
  if (!isRecord(agent)) throw invalid('`agent` must be an object.', 'agent');
  const tools = agent.tools == null ? [] : parseTools(agent.tools, 'agent.tools');
  const clash = environment ? tools.findIndex((t) => ENVIRONMENT_TOOL_NAMES.includes(t.name)) : -1;
  if (clash >= 0) {
    throw invalid(`A self-hosted environment session already offers the tool "${tools[clash]!.name}"; name yours differently.`, `agent.tools[${clash}].name`);
  }
  return {
    model: optionalString(agent.model, 'agent.model'),
    instructions: optionalString(agent.instructions, 'agent.instructions'),
    tools,
    metadata: body.metadata == null ? {} : parseMetadata(body.metadata),
    spendLimit: body.spend_control == null ? null : parseSpend(body.spend_control),
    input: body.input == null ? null : parseInputMessages(typeof body.input === 'string' ? body.input : body.input, 'input'),
    environment,
  };
}

/** `none` (or absent), or a self-hosted environment that will connect to this runtime (environment-routes.ts). */
function parseEnvironment(env: unknown): SelfHostedEnvironmentInput | null {
  if (env === undefined || env === null || (isRecord(env) && env.type === 'none')) return null;
  if (!isRecord(env) || env.type !== 'self_hosted') {
    throw invalid('The Deputy runtime supports environment {type: "none"} and {type: "self_hosted", workspace_directory}.', 'environment.type');
  }
  const dir = requiredString(env.workspace_directory, 'environment.workspace_directory');
  if (!dir.startsWith('/') || dir.includes('\0')) throw invalid('`environment.workspace_directory` is an absolute path.', 'environment.workspace_directory');
  const caps = env.capability_directories ?? [];
  if (!Array.isArray(caps) || caps.some((c) => typeof c !== 'string' || !c.startsWith('/'))) {
    throw invalid('`environment.capability_directories` is a list of absolute paths.', 'environment.capability_directories');
  }
  return { workspaceDirectory: dir, capabilityDirectories: caps as string[] };
}

export function parseUpdateSession(body: unknown): UpdateSessionInput {
  const b = body ?? {};
  if (!isRecord(b)) throw invalid('The request body must be a JSON object.');
  const out: UpdateSessionInput = {};
  if (b.agent !== undefined) {
    if (!isRecord(b.agent)) throw invalid('`agent` must be an object.', 'agent');
    const model = optionalString(b.agent.model, 'agent.model');
    if (model !== null) out.model = model;
    if ('instructions' in b.agent) out.instructions = optionalString(b.agent.instructions, 'agent.instructions');
    if ('tools' in b.agent) out.tools = b.agent.tools == null ? [] : parseTools(b.agent.tools, 'agent.tools');
  }
  if ('metadata' in b) out.metadata = b.metadata == null ? {} : parseMetadata(b.metadata);
  if ('spend_control' in b) {
    out.spendLimit = b.spend_control == null ? null : isRecord(b.spend_control) && b.spend_control.limit === null ? null : parseSpend(b.spend_control);
  }
  return out;
}

export function parseInputEvents(body: unknown): InputEvent[] {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object with an `events` array.');
  if (!Array.isArray(body.events) || body.events.length === 0) throw invalid('`events` must be a non-empty array.', 'events');
  return body.events.map((e, i) => parseInputEvent(e, `events[${i}]`));
}

function parseInputEvent(e: unknown, param: string): InputEvent {
  if (!isRecord(e)) throw invalid('Each event must be an object.', param);
  switch (e.type) {
    case 'agent.session.input.message':
      return { type: e.type, messages: parseInputMessages(e.input, `${param}.input`) };
    case 'agent.session.input.cancel':
      return { type: e.type };
    case 'agent.session.input.tool_result': {
      const callId = requiredString(e.call_id, `${param}.call_id`);
      const turnId = requiredString(e.turn_id, `${param}.turn_id`);
      if (typeof e.success !== 'boolean') throw invalid('`success` must be true or false.', `${param}.success`);
      const error = optionalString(e.error, `${param}.error`);
      let output: string | UserContent[] | null = null;
      if (typeof e.output === 'string') output = e.output;
      else if (Array.isArray(e.output)) output = parseContent(e.output, `${param}.output`);
      else if (e.output != null) throw invalid('`output` must be a string or an array of input content.', `${param}.output`);
      return { type: e.type, callId, turnId, success: e.success, output, error };
    }
    default:
      throw invalid(
        `Unknown event type ${JSON.stringify(e.type)}. The Deputy runtime accepts agent.session.input.message, agent.session.input.tool_result and agent.session.input.cancel.`,
        `${param}.type`,
        'unknown_event_type',
      );
  }
}

function parseInputMessages(value: unknown, param: string): UserContent[][] {
  if (typeof value === 'string') {
    if (value === '') throw invalid('The input text must not be empty.', param);
    return [[{ type: 'input_text', text: value }]];
  }
  if (!Array.isArray(value) || value.length === 0) throw invalid('`input` must be a non-empty array of user messages.', param);
  return value.map((m, i) => {
    const p = `${param}[${i}]`;
    if (!isRecord(m) || m.role !== 'user') throw invalid('Each input message must be an object with role "user".', `${p}.role`);
    if (m.type !== undefined && m.type !== 'message') throw invalid('An input message has type "message".', `${p}.type`);
    return parseContent(m.content, `${p}.content`);
  });
}

function parseContent(value: unknown, param: string): UserContent[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('`content` must be a non-empty array.', param);
  return value.map((c, i) => {
    if (isRecord(c) && c.type === 'input_text' && typeof c.text === 'string') return { type: 'input_text', text: c.text };
    if (isRecord(c) && c.type === 'input_image' && typeof c.image_url === 'string') return { type: 'input_image', image_url: c.image_url };
    throw invalid('Content parts are {type: "input_text", text} or {type: "input_image", image_url}.', `${param}[${i}]`);
  });
}

function parseTools(value: unknown, param: string): FunctionTool[] {
  if (!Array.isArray(value)) throw invalid('`tools` must be an array.', param);
  const names = new Set<string>();
  return value.map((t, i) => {
    const p = `${param}[${i}]`;
    if (!isRecord(t) || t.type !== 'function') {
      throw invalid('The Deputy runtime supports function tools only ({type: "function", name, description, parameters}).', `${p}.type`);
    }
    const name = requiredString(t.name, `${p}.name`);
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) throw invalid('A tool name is 1–64 letters, digits, "_" or "-".', `${p}.name`);
    if (names.has(name)) throw invalid(`The tool name "${name}" appears twice.`, `${p}.name`);
    names.add(name);
    const parameters = t.parameters ?? { type: 'object', properties: {} };
    if (!isRecord(parameters)) throw invalid('`parameters` must be a JSON Schema object.', `${p}.parameters`);
    return { type: 'function', name, description: optionalString(t.description, `${p}.description`) ?? '', parameters };
  });
}

function parseMetadata(value: unknown): Record<string, string> {
  if (!isRecord(value)) throw invalid('`metadata` must be an object of strings.', 'metadata');
  const entries = Object.entries(value);
  if (entries.length > 16) throw invalid('`metadata` holds at most 16 pairs.', 'metadata');
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 64) throw invalid('Metadata keys are 1–64 characters.', `metadata.${k}`);
    if (typeof v !== 'string' || v.length > 512) throw invalid('Metadata values are strings of at most 512 characters.', `metadata.${k}`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseSpend(value: unknown): number | null {
  if (!isRecord(value)) throw invalid('`spend_control` must be an object {limit}.', 'spend_control');
  if (value.limit === null) return null;
  if (typeof value.limit !== 'number' || !Number.isInteger(value.limit) || value.limit <= 0) {
    throw invalid('`spend_control.limit` is a positive whole number of US cents, or null.', 'spend_control.limit');
  }
  return value.limit;
}

function optionalString(value: unknown, param: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`\`${param}\` must be a string.`, param);
  return value;
}

function requiredString(value: unknown, param: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`\`${param}\` is required and must be a non-empty string.`, param);
  return value;
}

/** `after`, `limit` (1–100, default 20) and `order` (default desc) of a cursor page. */
export function parsePageQuery(query: URLSearchParams): PageQuery {
  const limitText = query.get('limit');
  const limit = limitText === null ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('`limit` is a whole number from 1 to 100.', 'limit');
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid('`order` is "asc" or "desc".', 'order');
  const after = query.get('after');
  return { limit, order, ...(after ? { after } : {}) };
}

/** `metadata[key]=value` filters of sessions.list. */
export function parseMetadataFilter(query: URLSearchParams): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const [k, v] of query) {
    const m = /^metadata\[(.+)\]$/.exec(k);
    if (m) filter[m[1]!] = v;
  }
  return filter;
}
